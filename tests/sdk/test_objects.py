"""COS object API through the official cos-python-sdk-v5.

Every call goes through the SDK the way a user writes it; `signed_request` (the SDK's own
signer plus requests) is used only where the SDK hides what must be checked, such as a 206 or
304 status or the raw error body.
"""

import gzip
import hashlib
import io
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import unquote

import pytest
import requests
from qcloud_cos.cos_exception import CosServiceError

from conftest import (
    crc64,
    empty_and_delete_bucket,
    md5_b64,
    new_bucket_name,
    quoted_md5,
    read_body,
    signed_request,
    vhost,
)

MB = 1024 * 1024
LONG_AGO = "Mon, 01 Jan 2001 00:00:00 GMT"


def expect_error(call, status, code):
    """Runs an SDK call that must fail; checks status, code and the COS error fields."""
    with pytest.raises(CosServiceError) as info:
        call()
    err = info.value
    codes = {code} if isinstance(code, str) else set(code)
    assert err.get_status_code() == status, f"status {err.get_status_code()}: {err.get_origin_msg()!r}"
    assert err.get_error_code() in codes, f"code {err.get_error_code()!r}: {err.get_origin_msg()!r}"
    if err.get_error_code() != "NoSuchResource":  # HEAD errors have no body; the SDK invents it
        # digest_xml needs Code, Message, Resource and RequestId, or it reports "Unknown".
        for field in (err.get_error_msg(), err.get_resource_location(), err.get_request_id()):
            assert field and field != "Unknown", f"incomplete error body: {err.get_origin_msg()!r}"
    return err


def assert_recent_http_date(value):
    """An RFC 1123 date (as Last-Modified must be) within a few minutes of this machine's clock."""
    assert value.endswith(" GMT"), value
    when = parsedate_to_datetime(value)
    assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=10), value


# ---------------------------------------------------------------------------------------------
# Buckets


def test_bucket_create_head_delete(client):
    name = new_bucket_name("sdkbkt")
    assert client.bucket_exists(name) is False
    client.create_bucket(Bucket=name)
    try:
        assert isinstance(client.head_bucket(Bucket=name), dict)
        assert client.bucket_exists(name) is True
        expect_error(
            lambda: client.create_bucket(Bucket=name),
            409,
            ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"),
        )
        client.put_object(Bucket=name, Key="keep.txt", Body=b"x")
        expect_error(lambda: client.delete_bucket(Bucket=name), 409, "BucketNotEmpty")
        client.delete_object(Bucket=name, Key="keep.txt")
        client.delete_bucket(Bucket=name)
    except Exception:
        empty_and_delete_bucket(client, name)
        raise
    assert client.bucket_exists(name) is False
    expect_error(lambda: client.head_bucket(Bucket=name), 404, "NoSuchResource")
    expect_error(lambda: client.list_objects(Bucket=name), 404, "NoSuchBucket")
    expect_error(lambda: client.put_object(Bucket=name, Key="k", Body=b"x"), 404, "NoSuchBucket")
    expect_error(lambda: client.get_object(Bucket=name, Key="k"), 404, "NoSuchBucket")


# ---------------------------------------------------------------------------------------------
# Single objects


def test_put_get_head_delete_roundtrip(client, bucket):
    key, data = "roundtrip/object.bin", os.urandom(1000)
    put = client.put_object(Bucket=bucket, Key=key, Body=data)
    # Exact header spellings: SDK users (and its own downloader) index this dict case-sensitively.
    assert put["ETag"] == quoted_md5(data)
    assert put["x-cos-hash-crc64ecma"] == crc64(data)
    assert put["x-cos-request-id"]

    got = client.get_object(Bucket=bucket, Key=key)
    assert read_body(got) == data
    assert got["Content-Length"] == "1000"
    assert got["ETag"] == quoted_md5(data)
    assert got["x-cos-hash-crc64ecma"] == crc64(data)
    assert_recent_http_date(got["Last-Modified"])

    head = client.head_object(Bucket=bucket, Key=key)
    assert head["Content-Length"] == "1000"
    assert head["ETag"] == got["ETag"]
    assert head["Last-Modified"] == got["Last-Modified"]
    assert head["x-cos-hash-crc64ecma"] == crc64(data)
    assert client.object_exists(Bucket=bucket, Key=key) is True

    client.delete_object(Bucket=bucket, Key=key)
    assert client.object_exists(Bucket=bucket, Key=key) is False
    expect_error(lambda: client.head_object(Bucket=bucket, Key=key), 404, "NoSuchResource")
    expect_error(lambda: client.get_object(Bucket=bucket, Key=key), 404, "NoSuchKey")
    # Deleting what is already gone is not an error for COS clients (204).
    client.delete_object(Bucket=bucket, Key=key)


def test_get_object_to_file(client, bucket, tmp_path):
    """get_stream_to_file compares the bytes it got with Content-Length."""
    key, data = "roundtrip/to-file.bin", os.urandom(3 * MB + 17)
    client.put_object(Bucket=bucket, Key=key, Body=data)
    dest = tmp_path / "out.bin"
    client.get_object(Bucket=bucket, Key=key)["Body"].get_stream_to_file(str(dest))
    assert dest.read_bytes() == data


def test_empty_object(client, bucket):
    put = client.put_object(Bucket=bucket, Key="roundtrip/empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = client.get_object(Bucket=bucket, Key="roundtrip/empty")
    assert got["Content-Length"] == "0"
    assert read_body(got) == b""


def test_overwrite_replaces_content(client, bucket):
    key = "roundtrip/overwrite.txt"
    client.put_object(Bucket=bucket, Key=key, Body=b"first version")
    client.put_object(Bucket=bucket, Key=key, Body=b"second")
    got = client.get_object(Bucket=bucket, Key=key)
    assert read_body(got) == b"second"
    assert got["ETag"] == quoted_md5(b"second")


def test_put_object_from_file(client, bucket, tmp_path):
    path = tmp_path / "local.bin"
    data = os.urandom(2 * MB + 3)
    path.write_bytes(data)
    with open(path, "rb") as fp:
        put = client.put_object(Bucket=bucket, Key="roundtrip/from-file.bin", Body=fp)
    assert put["ETag"] == quoted_md5(data)
    assert read_body(client.get_object(Bucket=bucket, Key="roundtrip/from-file.bin")) == data


def test_put_object_chunked_body(client, bucket):
    """A body without a length (a generator) goes out as Transfer-Encoding: chunked."""
    pieces = [os.urandom(64 * 1024) for _ in range(20)] + [b"tail"]
    data = b"".join(pieces)
    put = client.put_object(Bucket=bucket, Key="roundtrip/chunked.bin", Body=(p for p in pieces))
    assert put["ETag"] == quoted_md5(data)
    got = client.get_object(Bucket=bucket, Key="roundtrip/chunked.bin")
    assert got["Content-Length"] == str(len(data))
    assert read_body(got) == data


SPECIAL_KEYS = [
    "space in name.txt",
    "100%.txt",
    "100%25literal.txt",
    "a+b=c&d.txt",
    "中文/文件名.txt",
    "emoji-😀.bin",
    "question?hash#.txt",
    "tilde~under_score-dash.txt",
    "deep/a/b/c/d/e.txt",
    "semi;colon,comma'quote\"dq.txt",
    "brackets[1]{2}(3)<4>.txt",
]


@pytest.mark.parametrize("key", SPECIAL_KEYS)
def test_special_keys(client, bucket, key):
    full = "keys/" + key
    data = full.encode()
    assert client.put_object(Bucket=bucket, Key=full, Body=data)["ETag"] == quoted_md5(data)
    assert client.head_object(Bucket=bucket, Key=full)["Content-Length"] == str(len(data))
    assert read_body(client.get_object(Bucket=bucket, Key=full)) == data
    listed = client.list_objects(Bucket=bucket, Prefix=full)
    assert [c["Key"] for c in listed.get("Contents", [])] == [full]
    client.delete_object(Bucket=bucket, Key=full)
    assert client.object_exists(Bucket=bucket, Key=full) is False


# ---------------------------------------------------------------------------------------------
# Stored headers, metadata and response-* overrides


def test_metadata_and_stored_headers(client, bucket):
    key = "meta/page.txt"
    data = gzip.compress(b"hello mogr " * 200)
    expires = "Wed, 21 Oct 2037 07:28:00 GMT"
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType="text/plain; charset=utf-8",
        ContentDisposition='attachment; filename="page.txt"',
        ContentEncoding="gzip",
        CacheControl="max-age=60",
        Expires=expires,
        Metadata={"x-cos-meta-a": "b", "x-cos-meta-author": "mogr test"},
    )
    for resp in (client.head_object(Bucket=bucket, Key=key), client.get_object(Bucket=bucket, Key=key)):
        assert resp["Content-Type"] == "text/plain; charset=utf-8"
        assert resp["Content-Disposition"] == 'attachment; filename="page.txt"'
        assert resp["Content-Encoding"] == "gzip"
        assert resp["Cache-Control"] == "max-age=60"
        assert resp["Expires"] == expires
        assert resp["x-cos-meta-a"] == "b"
        assert resp["x-cos-meta-author"] == "mogr test"
        assert resp["Content-Length"] == str(len(data))
    # The stored bytes come back as stored: the server must not decode or re-encode them.
    got = client.get_object(Bucket=bucket, Key=key)
    assert read_body(got) == data


def test_default_content_type_is_present(client, bucket):
    client.put_object(Bucket=bucket, Key="meta/untyped", Body=b"abc")
    assert client.head_object(Bucket=bucket, Key="meta/untyped")["Content-Type"]


def test_response_header_overrides(client, bucket):
    key = "meta/override.bin"
    client.put_object(Bucket=bucket, Key=key, Body=b"override me", ContentType="application/octet-stream")
    got = client.get_object(
        Bucket=bucket,
        Key=key,
        ResponseContentType="application/json",
        ResponseContentDisposition='inline; filename="o.json"',
        ResponseCacheControl="no-cache",
        ResponseContentLanguage="fr-FR",
        ResponseExpires="Thu, 01 Jan 2037 00:00:00 GMT",
    )
    assert got["Content-Type"] == "application/json"
    assert got["Content-Disposition"] == 'inline; filename="o.json"'
    assert got["Cache-Control"] == "no-cache"
    assert got["Content-Language"] == "fr-FR"
    assert got["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
    assert read_body(got) == b"override me"
    # Overrides apply to that response only.
    assert client.head_object(Bucket=bucket, Key=key)["Content-Type"] == "application/octet-stream"


# ---------------------------------------------------------------------------------------------
# Content-MD5


def test_content_md5_accepted(client, bucket):
    data = os.urandom(4096)
    put = client.put_object(Bucket=bucket, Key="md5/good.bin", Body=data, EnableMD5=True)
    assert put["ETag"] == quoted_md5(data)


def test_content_md5_mismatch_is_bad_digest(client, bucket):
    key = "md5/bad.bin"
    expect_error(
        lambda: client.put_object(Bucket=bucket, Key=key, Body=b"actual", ContentMD5=md5_b64(b"other")),
        400,
        "BadDigest",
    )
    expect_error(lambda: client.head_object(Bucket=bucket, Key=key), 404, "NoSuchResource")


def test_content_md5_malformed_is_invalid_digest(client, bucket):
    key = "md5/malformed.bin"
    expect_error(
        lambda: client.put_object(Bucket=bucket, Key=key, Body=b"actual", ContentMD5="not-base64!"),
        400,
        "InvalidDigest",
    )
    assert client.object_exists(Bucket=bucket, Key=key) is False


# ---------------------------------------------------------------------------------------------
# Range GET

RANGE_DATA = bytes(range(100))


@pytest.fixture(scope="module")
def range_key(client, bucket):
    client.put_object(Bucket=bucket, Key="range/hundred.bin", Body=RANGE_DATA)
    return "range/hundred.bin"


@pytest.mark.parametrize(
    "header, first, last",
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-10", 10, 10),
        ("bytes=-10", 90, 99),
        ("bytes=90-", 90, 99),
        ("bytes=95-200", 95, 99),
        ("bytes=0-", 0, 99),
    ],
)
def test_range_get(client, bucket, range_key, header, first, last):
    got = client.get_object(Bucket=bucket, Key=range_key, Range=header)
    assert read_body(got) == RANGE_DATA[first : last + 1]
    assert got["Content-Range"] == f"bytes {first}-{last}/100"
    assert got["Content-Length"] == str(last - first + 1)


def test_range_status_is_206(client, bucket, range_key):
    r = signed_request(client, "GET", bucket, range_key, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == RANGE_DATA[:10]
    full = signed_request(client, "GET", bucket, range_key)
    assert full.status_code == 200
    assert full.headers.get("Accept-Ranges") == "bytes"


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300"])
def test_unsatisfiable_range_is_416(client, bucket, range_key, header):
    expect_error(lambda: client.get_object(Bucket=bucket, Key=range_key, Range=header), 416, "InvalidRange")


# ---------------------------------------------------------------------------------------------
# Conditional GET


@pytest.fixture(scope="module")
def conditional(client, bucket):
    key = "cond/object.txt"
    client.put_object(Bucket=bucket, Key=key, Body=b"conditional body")
    head = client.head_object(Bucket=bucket, Key=key)
    return key, head["ETag"], head["Last-Modified"]


def test_if_none_match_and_if_modified_since_give_304(client, bucket, conditional):
    key, etag, last_modified = conditional
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
        r = signed_request(client, "GET", bucket, key, headers=headers)
        assert r.status_code == 304, headers
        assert r.content == b""
        assert r.headers.get("ETag") == etag
    for headers in ({"If-None-Match": '"00000000000000000000000000000000"'}, {"If-Modified-Since": LONG_AGO}):
        r = signed_request(client, "GET", bucket, key, headers=headers)
        assert r.status_code == 200, headers
        assert r.content == b"conditional body"


def test_sdk_get_object_with_matching_if_none_match(client, bucket, conditional):
    """The SDK treats every status below 400 as success, so a 304 must not raise; it must not
    carry the object either."""
    key, etag, _ = conditional
    try:
        got = client.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag)
    except OSError as exc:  # StreamBody refuses a response with neither length nor chunking
        assert "StreamBody" in str(exc)
    else:
        assert got["ETag"] == etag
        assert read_body(got) == b""
    client.head_object(Bucket=bucket, Key=key, IfNoneMatch=etag)


def test_if_match_and_if_unmodified_since(client, bucket, conditional):
    key, etag, last_modified = conditional
    assert read_body(client.get_object(Bucket=bucket, Key=key, IfMatch=etag)) == b"conditional body"
    assert read_body(client.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=last_modified)) == (
        b"conditional body"
    )
    expect_error(
        lambda: client.get_object(Bucket=bucket, Key=key, IfMatch='"00000000000000000000000000000000"'),
        412,
        "PreconditionFailed",
    )
    expect_error(
        lambda: client.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=LONG_AGO), 412, "PreconditionFailed"
    )


# ---------------------------------------------------------------------------------------------
# ListObjects (v1)

LIST_KEYS = sorted(
    [
        "list/a.txt",
        "list/b/1.txt",
        "list/b/2.txt",
        "list/c d/3.txt",
        "list/100%/4.txt",
        "list/e+f.txt",
        "list/中/5.txt",
        "list/z.txt",
    ],
    key=lambda k: k.encode(),
)


@pytest.fixture(scope="module")
def listed(client, bucket):
    for key in LIST_KEYS:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return LIST_KEYS


def list_all(client, bucket, **kwargs):
    """Pages through list_objects like SDK users do; returns (keys, prefixes, pages)."""
    keys, prefixes, pages, marker = [], [], 0, ""
    while True:
        page = client.list_objects(Bucket=bucket, Marker=marker, **kwargs)
        pages += 1
        keys += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if page["IsTruncated"] != "true":
            return keys, prefixes, pages
        assert page.get("NextMarker"), "a truncated page must say where to continue"
        marker = page["NextMarker"]
        assert pages < 100


def test_list_prefix(client, bucket, listed):
    page = client.list_objects(Bucket=bucket, Prefix="list/")
    assert page["Name"] == bucket
    assert page["Prefix"] == "list/"
    assert page["MaxKeys"] == "1000"
    assert page["IsTruncated"] == "false"
    contents = page["Contents"]
    assert [c["Key"] for c in contents] == listed
    for item in contents:
        assert item["Size"] == str(len(item["Key"].encode()))
        assert item["ETag"] == quoted_md5(item["Key"].encode())
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", item["LastModified"]), item
        assert item["StorageClass"] == "STANDARD"


def test_list_delimiter(client, bucket, listed):
    page = client.list_objects(Bucket=bucket, Prefix="list/", Delimiter="/")
    assert page["Delimiter"] == "/"
    assert [c["Key"] for c in page["Contents"]] == ["list/a.txt", "list/e+f.txt", "list/z.txt"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == sorted(
        ["list/100%/", "list/b/", "list/c d/", "list/中/"], key=lambda k: k.encode()
    )


def test_list_root_delimiter_groups_everything_under_prefixes(client, bucket, listed):
    page = client.list_objects(Bucket=bucket, Prefix="list", Delimiter="/")
    assert page.get("Contents", []) == []
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["list/"]


def test_list_paging_with_max_keys(client, bucket, listed):
    keys, prefixes, pages = list_all(client, bucket, Prefix="list/", MaxKeys=3)
    assert keys == listed
    assert prefixes == []
    assert pages == 3
    first = client.list_objects(Bucket=bucket, Prefix="list/", MaxKeys=3)
    assert first["IsTruncated"] == "true"
    assert first["MaxKeys"] == "3"
    assert len(first["Contents"]) == 3


def test_list_paging_counts_common_prefixes(client, bucket, listed):
    keys, prefixes, _ = list_all(client, bucket, Prefix="list/", Delimiter="/", MaxKeys=2)
    assert keys == ["list/a.txt", "list/e+f.txt", "list/z.txt"]
    assert prefixes == sorted(["list/100%/", "list/b/", "list/c d/", "list/中/"], key=lambda k: k.encode())


def test_list_marker(client, bucket, listed):
    page = client.list_objects(Bucket=bucket, Prefix="list/", Marker="list/b/2.txt")
    expected = [k for k in listed if k.encode() > b"list/b/2.txt"]
    assert [c["Key"] for c in page["Contents"]] == expected
    assert page["Marker"] == "list/b/2.txt"


def test_list_explicit_url_encoding(client, bucket, listed):
    """With EncodingType='url' the SDK does not decode: the server's encoding shows."""
    page = client.list_objects(Bucket=bucket, Prefix="list/", EncodingType="url")
    assert page["EncodingType"] == "url"
    raw = [c["Key"] for c in page["Contents"]]
    assert [unquote(k) for k in raw] == listed
    for k in raw:
        assert " " not in k and "中" not in k, k
        assert "/" in k, "'/' stays literal"
    assert "list/100%25/4.txt" in raw
    assert "list/c%20d/3.txt" in raw


def test_list_no_match(client, bucket, listed):
    page = client.list_objects(Bucket=bucket, Prefix="no-such-prefix/")
    assert page.get("Contents", []) == []
    assert page["IsTruncated"] == "false"


# ---------------------------------------------------------------------------------------------
# Batch delete


def test_delete_objects(client, bucket):
    keys = ["batch/1.txt", "batch/2 two.txt", "batch/3%.txt", "batch/中.txt", "batch/keep.txt"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    doomed = keys[:4] + ["batch/never-existed.txt"]
    result = client.delete_objects(
        Bucket=bucket, Delete={"Quiet": "false", "Object": [{"Key": k} for k in doomed]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(doomed)
    assert result.get("Error", []) == []
    remaining = [c["Key"] for c in client.list_objects(Bucket=bucket, Prefix="batch/").get("Contents", [])]
    assert remaining == ["batch/keep.txt"]

    quiet = client.delete_objects(
        Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": "batch/keep.txt"}]}
    )
    assert quiet.get("Deleted", []) == []
    assert client.object_exists(Bucket=bucket, Key="batch/keep.txt") is False


# ---------------------------------------------------------------------------------------------
# Multipart upload


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(MB), b""):
            h.update(chunk)
    return h.hexdigest()


def write_random_file(path, size):
    with open(path, "wb") as fp:
        left = size
        while left:
            n = min(left, 4 * MB)
            fp.write(os.urandom(n))
            left -= n
    return path


def test_upload_file_multipart_and_download(client, bucket, tmp_path):
    src = write_random_file(tmp_path / "25mb.bin", 25 * MB + 12345)
    key = "multipart/25mb.bin"
    done = client.upload_file(Bucket=bucket, Key=key, LocalFilePath=str(src), PartSize=1, MAXThread=4)
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["Content-Length"] == str(src.stat().st_size)
    assert head["ETag"] == done["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}(-\d+)?"', head["ETag"]), head["ETag"]
    assert head["x-cos-hash-crc64ecma"] == crc64(src.read_bytes())

    whole = tmp_path / "whole.bin"
    client.get_object(Bucket=bucket, Key=key)["Body"].get_stream_to_file(str(whole))
    assert sha256_file(whole) == sha256_file(src)

    # download_file above PartSize MB: HEAD, parallel Range GETs, then a CRC-64 check against HEAD.
    parts = tmp_path / "parts.bin"
    client.download_file(
        Bucket=bucket, Key=key, DestFilePath=str(parts), PartSize=5, MAXThread=4,
        EnableCRC=True, DumpRecordDir=str(tmp_path / "records"),
    )
    assert sha256_file(parts) == sha256_file(src)


def test_upload_file_from_buffer(client, bucket):
    """This path reads each part's response['ETag'] with that exact spelling."""
    data = os.urandom(3 * MB + 100)
    key = "multipart/from-buffer.bin"
    done = client.upload_file_from_buffer(Bucket=bucket, Key=key, Body=io.BytesIO(data), PartSize=1, MAXThread=2)
    assert done["ETag"]
    got = client.get_object(Bucket=bucket, Key=key)
    assert got["Content-Length"] == str(len(data))
    assert read_body(got) == data


def test_multipart_step_by_step(client, bucket):
    key = "multipart/manual.bin"
    init = client.create_multipart_upload(
        Bucket=bucket, Key=key, ContentType="application/x-mogr-test", Metadata={"x-cos-meta-mp": "yes"}
    )
    upload_id = init["UploadId"]
    assert upload_id
    assert init["Key"] == key
    assert init["Bucket"] == bucket

    parts = {1: os.urandom(MB), 2: os.urandom(MB + 1), 3: b"the last part may be small"}
    etags = {}
    for number in (3, 1, 2):  # parts may arrive in any order
        resp = client.upload_part(
            Bucket=bucket, Key=key, Body=parts[number], PartNumber=number, UploadId=upload_id, EnableMD5=True
        )
        assert resp["ETag"] == quoted_md5(parts[number])
        etags[number] = resp["ETag"]

    listing = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert listing["UploadId"] == upload_id
    assert listing["IsTruncated"] == "false"
    assert [p["PartNumber"] for p in listing["Part"]] == ["1", "2", "3"]
    assert [p["Size"] for p in listing["Part"]] == [str(len(parts[n])) for n in (1, 2, 3)]
    assert [p["ETag"] for p in listing["Part"]] == [etags[n] for n in (1, 2, 3)]

    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix="multipart/")
    assert (key, upload_id) in [(u["Key"], u["UploadId"]) for u in uploads.get("Upload", [])]

    done = client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]},
    )
    assert done["Key"] == key
    assert done["ETag"]
    got = client.get_object(Bucket=bucket, Key=key)
    assert read_body(got) == parts[1] + parts[2] + parts[3]
    assert got["Content-Type"] == "application/x-mogr-test"
    assert got["x-cos-meta-mp"] == "yes"
    assert got["ETag"] == done["ETag"]
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix="multipart/")
    assert upload_id not in [u["UploadId"] for u in uploads.get("Upload", [])]


def test_multipart_abort(client, bucket):
    key = "multipart/aborted.bin"
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=bucket, Key=key, Body=os.urandom(1000), PartNumber=1, UploadId=upload_id)
    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    expect_error(lambda: client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id), 404, "NoSuchUpload")
    expect_error(
        lambda: client.upload_part(Bucket=bucket, Key=key, Body=b"x", PartNumber=2, UploadId=upload_id),
        404,
        "NoSuchUpload",
    )
    assert client.object_exists(Bucket=bucket, Key=key) is False


def test_multipart_complete_rejects_small_and_unknown_parts(client, bucket):
    key = "multipart/rejected.bin"
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    small = [os.urandom(100 * 1024), os.urandom(100 * 1024)]
    etags = [
        client.upload_part(Bucket=bucket, Key=key, Body=b, PartNumber=i + 1, UploadId=upload_id)["ETag"]
        for i, b in enumerate(small)
    ]
    # Every part but the last must be at least 1 MB.
    expect_error(
        lambda: client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Part": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
        ),
        400,
        "EntityTooSmall",
    )
    expect_error(
        lambda: client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Part": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]},
        ),
        400,
        "InvalidPart",
    )
    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert client.object_exists(Bucket=bucket, Key=key) is False


# ---------------------------------------------------------------------------------------------
# Presigned URLs


def test_presigned_get(client, bucket):
    key, data = "presign/get 中.bin", os.urandom(5000)
    client.put_object(Bucket=bucket, Key=key, Body=data)
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host})
    r = requests.get(url, headers={"Host": host}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["ETag"] == quoted_md5(data)

    url = client.get_presigned_download_url(
        Bucket=bucket, Key=key, Headers={"Host": host},
        Params={"response-content-disposition": 'attachment; filename="dl.bin"'},
    )
    r = requests.get(url, headers={"Host": host}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Disposition"] == 'attachment; filename="dl.bin"'


def test_presigned_put(client, bucket):
    key, data = "presign/put.bin", os.urandom(7000)
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="PUT", Headers={"Host": host})
    r = requests.put(url, data=data, headers={"Host": host}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == quoted_md5(data)
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == data


def presigned_error(response):
    """(status, Code, RequestId) of a raw COS error response."""
    root = ET.fromstring(response.content)
    return response.status_code, root.findtext("Code"), root.findtext("RequestId")


def test_presigned_url_rejections(client, bucket):
    key = "presign/guarded.bin"
    client.put_object(Bucket=bucket, Key=key, Body=b"guarded")
    host = vhost(client, bucket)

    expired = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Expired=-30, Headers={"Host": host})
    status, code, _ = presigned_error(requests.get(expired, headers={"Host": host}, timeout=60))
    assert (status, code) == (403, "AccessDenied")

    good = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host})
    sig = re.search(r"q-signature=([0-9a-f]{40})", good).group(1)
    tampered = good.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    status, code, _ = presigned_error(requests.get(tampered, headers={"Host": host}, timeout=60))
    assert (status, code) == (403, "SignatureDoesNotMatch")

    # A URL signed for GET does not allow a PUT to the same key.
    status, code, _ = presigned_error(requests.put(good, data=b"overwrite", headers={"Host": host}, timeout=60))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == b"guarded"


# ---------------------------------------------------------------------------------------------
# Access control and authentication errors


def test_anonymous_access_follows_bucket_acl(server, client):
    name = new_bucket_name("sdkacl")
    client.create_bucket(Bucket=name)
    try:
        client.put_object(Bucket=name, Key="pub.txt", Body=b"public soon")
        anon = server.client(Anonymous=True, SecretId=None, SecretKey=None)
        expect_error(lambda: anon.get_object(Bucket=name, Key="pub.txt"), 403, "AccessDenied")
        expect_error(lambda: anon.put_object(Bucket=name, Key="anon.txt", Body=b"x"), 403, "AccessDenied")
        expect_error(lambda: anon.list_objects(Bucket=name), 403, "AccessDenied")

        client.put_bucket_acl(Bucket=name, ACL="public-read")
        assert read_body(anon.get_object(Bucket=name, Key="pub.txt")) == b"public soon"
        assert anon.head_object(Bucket=name, Key="pub.txt")["Content-Length"] == "11"
        expect_error(lambda: anon.put_object(Bucket=name, Key="anon.txt", Body=b"x"), 403, "AccessDenied")
        expect_error(lambda: anon.delete_object(Bucket=name, Key="pub.txt"), 403, "AccessDenied")

        client.put_bucket_acl(Bucket=name, ACL="private")
        expect_error(lambda: anon.get_object(Bucket=name, Key="pub.txt"), 403, "AccessDenied")
    finally:
        empty_and_delete_bucket(client, name)


def test_create_bucket_with_public_read_acl(server, client):
    name = new_bucket_name("sdkpub")
    client.create_bucket(Bucket=name, ACL="public-read")
    try:
        client.put_object(Bucket=name, Key="open.txt", Body=b"open")
        anon = server.client(Anonymous=True, SecretId=None, SecretKey=None)
        assert read_body(anon.get_object(Bucket=name, Key="open.txt")) == b"open"
        expect_error(lambda: anon.put_object(Bucket=name, Key="x.txt", Body=b"x"), 403, "AccessDenied")
    finally:
        empty_and_delete_bucket(client, name)


def test_request_without_authorization_is_denied(client, bucket):
    client.put_object(Bucket=bucket, Key="auth/private.txt", Body=b"private")
    url = client.get_conf().uri(bucket=bucket, path="auth/private.txt")
    r = requests.get(url, headers={"Host": vhost(client, bucket)}, timeout=60)
    status, code, _ = presigned_error(r)
    assert (status, code) == (403, "AccessDenied")


def test_wrong_secret_key_is_signature_mismatch(server, bucket):
    bad = server.client(SecretKey=server.secret_key + "x")
    err = expect_error(lambda: bad.put_object(Bucket=bucket, Key="auth/bad.txt", Body=b"x"), 403,
                       "SignatureDoesNotMatch")
    assert bucket in err.get_resource_location()
    expect_error(lambda: bad.get_object(Bucket=bucket, Key="auth/bad.txt"), 403, "SignatureDoesNotMatch")
    expect_error(lambda: bad.list_objects(Bucket=bucket), 403, "SignatureDoesNotMatch")


def test_unknown_secret_id_is_invalid_access_key(server, bucket):
    stranger = server.client(SecretId="AKIDnobodyknowsthisid0000000000", SecretKey="whatever")
    expect_error(lambda: stranger.get_object(Bucket=bucket, Key="auth/x"), 403, "InvalidAccessKeyId")


def test_error_body_matches_cos(client, bucket):
    """The raw error: XML with Code/Message/Resource/RequestId, RequestId = x-cos-request-id."""
    r = signed_request(client, "GET", bucket, "auth/does-not-exist.txt")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Message")
    assert "auth/does-not-exist.txt" in root.findtext("Resource")
    assert root.findtext("RequestId") == r.headers["x-cos-request-id"]
    # A vector-bucket header would make the SDK ignore the XML body.
    assert "x-cos-error-code" not in r.headers


# ---------------------------------------------------------------------------------------------
# Large objects (memory must not grow with the object)

LARGE = 100 * MB


@pytest.fixture(scope="module")
def large_file(tmp_path_factory):
    path = write_random_file(tmp_path_factory.mktemp("large") / "100mb.bin", LARGE)
    yield path
    path.unlink()


def check_ranges(client, bucket, key, path):
    with open(path, "rb") as fp:
        for start, length in ((0, MB), (LARGE // 2 - 7, MB + 13), (LARGE - MB, MB)):
            fp.seek(start)
            want = fp.read(length)
            got = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
            assert got["Content-Range"] == f"bytes {start}-{start + length - 1}/{LARGE}"
            assert read_body(got) == want


def test_large_single_put(server, client, bucket, large_file, tmp_path):
    key = "large/single.bin"
    server.rss_report("before the 100 MB single PUT")
    with open(large_file, "rb") as fp:
        put = client.put_object(Bucket=bucket, Key=key, Body=fp)
    server.rss_report("after the 100 MB single PUT")
    with open(large_file, "rb") as fp:
        md5 = hashlib.md5()
        for chunk in iter(lambda: fp.read(4 * MB), b""):
            md5.update(chunk)
    assert put["ETag"] == f'"{md5.hexdigest()}"'
    assert client.head_object(Bucket=bucket, Key=key)["Content-Length"] == str(LARGE)
    check_ranges(client, bucket, key, large_file)
    dest = tmp_path / "single.out"
    client.download_file(
        Bucket=bucket, Key=key, DestFilePath=str(dest), PartSize=20, MAXThread=4,
        EnableCRC=True, DumpRecordDir=str(tmp_path / "records"),
    )
    server.rss_report("after the 100 MB ranged download")
    assert sha256_file(dest) == sha256_file(large_file)
    dest.unlink()
    client.delete_object(Bucket=bucket, Key=key)


def test_large_upload_file_multipart(server, client, bucket, large_file, tmp_path):
    key = "large/multipart.bin"
    client.upload_file(Bucket=bucket, Key=key, LocalFilePath=str(large_file), PartSize=10, MAXThread=4)
    server.rss_report("after the 100 MB multipart upload")
    assert client.head_object(Bucket=bucket, Key=key)["Content-Length"] == str(LARGE)
    check_ranges(client, bucket, key, large_file)
    dest = tmp_path / "multipart.out"
    client.download_file(
        Bucket=bucket, Key=key, DestFilePath=str(dest), PartSize=20, MAXThread=4,
        EnableCRC=True, DumpRecordDir=str(tmp_path / "records"),
    )
    assert sha256_file(dest) == sha256_file(large_file)
    dest.unlink()
    client.delete_object(Bucket=bucket, Key=key)


def test_file_like_body_without_fileno(client, bucket):
    """A BytesIO body: the SDK computes its length from seek/tell."""
    data = os.urandom(MB + 5)
    put = client.put_object(Bucket=bucket, Key="roundtrip/bytesio.bin", Body=io.BytesIO(data))
    assert put["ETag"] == quoted_md5(data)
    assert read_body(client.get_object(Bucket=bucket, Key="roundtrip/bytesio.bin")) == data


def test_last_modified_round_trips_as_http_date(client, bucket):
    """Last-Modified is an HTTP date that If-Modified-Since accepts back unchanged."""
    client.put_object(Bucket=bucket, Key="roundtrip/date.txt", Body=b"d")
    lm = client.head_object(Bucket=bucket, Key="roundtrip/date.txt")["Last-Modified"]
    assert_recent_http_date(lm)
    assert format_datetime(parsedate_to_datetime(lm), usegmt=True) == lm
