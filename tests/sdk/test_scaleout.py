"""Two mogr nodes over one S3 engine (scripts/test.sh starts a 3-node Garage cluster and two
`mogr serve` with `[store] kind = "s3"`): what one node acknowledges, the other serves at once.

Node A is the usual server (MOGR_ENDPOINT_PORT); node B listens on MOGR_NODE_B_PORT with the same
credentials. Without MOGR_NODE_B_PORT every test here is skipped.
"""

import io
import json
import os
import time
import warnings

import pytest
import requests
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from conftest import (crc64, empty_and_delete_bucket, new_bucket_name, quoted_md5, read_body,
                      signed_request, vhost)


@pytest.fixture(scope="module")
def node_b(server):
    port = os.environ.get("MOGR_NODE_B_PORT")
    if not port:
        pytest.skip("MOGR_NODE_B_PORT not set: scripts/test.sh runs this against two nodes over Garage")
    return server.client(Port=int(port))


@pytest.fixture(scope="module")
def shared_bucket(client, node_b):
    """A bucket created through node A and emptied and deleted through node B."""
    name = new_bucket_name("scaleout")
    client.create_bucket(Bucket=name)
    yield name
    try:
        empty_and_delete_bucket(node_b, name)
    except CosServiceError as e:
        if e.get_error_code() != "BucketNotEmpty":
            raise
        # Say what was still there (a listing that lagged a write, or a write that came
        # late), then empty it again: the teardown is not what these tests check.
        left = [c["Key"] for c in node_b.list_objects(Bucket=name).get("Contents", [])]
        uploads = node_b.list_multipart_uploads(Bucket=name).get("Upload", [])
        warnings.warn(f"{name} not empty at its first delete: objects {left}, uploads {uploads}")
        time.sleep(1)
        empty_and_delete_bucket(node_b, name)


def png(width: int, height: int) -> bytes:
    im = Image.new("RGB", (width, height))
    im.putdata([((x * 7) % 256, (y * 5) % 256, 90) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def test_upload_on_one_node_read_list_delete_on_the_other(client, node_b, shared_bucket):
    data = os.urandom(300_000)
    put = client.put_object(Bucket=shared_bucket, Key="dir/a.bin", Body=data, ContentType="application/x-test",
                            Metadata={"x-cos-meta-origin": "node-a"})
    assert put["ETag"] == quoted_md5(data)

    got = node_b.get_object(Bucket=shared_bucket, Key="dir/a.bin")
    assert read_body(got) == data
    assert got["ETag"] == quoted_md5(data)
    assert got["x-cos-hash-crc64ecma"] == crc64(data)
    assert got["Content-Type"] == "application/x-test"
    assert got["x-cos-meta-origin"] == "node-a"

    ranged = node_b.get_object(Bucket=shared_bucket, Key="dir/a.bin", Range="bytes=100-199")
    assert read_body(ranged) == data[100:200]

    listing = node_b.list_objects(Bucket=shared_bucket, Prefix="dir/")
    assert [(c["Key"], int(c["Size"]), c["ETag"]) for c in listing["Contents"]] == [
        ("dir/a.bin", len(data), quoted_md5(data))
    ]

    node_b.delete_object(Bucket=shared_bucket, Key="dir/a.bin")
    with pytest.raises(CosServiceError) as err:
        client.head_object(Bucket=shared_bucket, Key="dir/a.bin")
    assert err.value.get_status_code() == 404


def test_processing_on_the_other_node(client, node_b, shared_bucket):
    src = png(64, 48)
    client.put_object(Bucket=shared_bucket, Key="img/src.png", Body=src)
    # Download-mode processing through node B.
    r = signed_request(node_b, "GET", shared_bucket, "img/src.png",
                       params={"imageMogr2/thumbnail/32x/format/jpg": ""})
    assert r.status_code == 200, r.text
    im = Image.open(io.BytesIO(r.content))
    assert im.format == "JPEG" and im.size == (32, 24)

    # Pic-Operations on upload through node B: the original and the output, seen through node A.
    ops = {"is_pic_info": 1, "rules": [{"fileid": "thumb.png", "rule": "imageMogr2/thumbnail/16x"}]}
    node_b.ci_put_object(Bucket=shared_bucket, Body=src, Key="img/up.png", PicOperations=json.dumps(ops))
    assert read_body(client.get_object(Bucket=shared_bucket, Key="img/up.png")) == src
    thumb = Image.open(io.BytesIO(read_body(client.get_object(Bucket=shared_bucket, Key="img/thumb.png"))))
    assert thumb.size == (16, 12)


def test_multipart_parts_split_between_nodes(client, node_b, shared_bucket):
    key = "mp/big.bin"
    part1 = os.urandom(1024 * 1024)  # COS's minimum part size
    part2 = os.urandom(1024 * 1024)
    part3 = os.urandom(12345)
    up = client.create_multipart_upload(Bucket=shared_bucket, Key=key)
    upload_id = up["UploadId"]
    e1 = client.upload_part(Bucket=shared_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    e2 = node_b.upload_part(Bucket=shared_bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=part2)["ETag"]
    e3 = client.upload_part(Bucket=shared_bucket, Key=key, UploadId=upload_id, PartNumber=3, Body=part3)["ETag"]

    listed = node_b.list_parts(Bucket=shared_bucket, Key=key, UploadId=upload_id)
    assert [int(p["PartNumber"]) for p in listed["Part"]] == [1, 2, 3]
    uploads = node_b.list_multipart_uploads(Bucket=shared_bucket, Prefix="mp/")
    assert [u["UploadId"] for u in uploads["Upload"]] == [upload_id]

    done = node_b.complete_multipart_upload(
        Bucket=shared_bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                                  {"PartNumber": 3, "ETag": e3}]},
    )
    whole = part1 + part2 + part3
    got = client.get_object(Bucket=shared_bucket, Key=key)
    assert read_body(got) == whole
    assert got["ETag"] == done["ETag"] and done["ETag"].strip('"').endswith("-3")
    assert got["x-cos-hash-crc64ecma"] == crc64(whole)
    # The listing shows the same ETag as HEAD.
    listing = client.list_objects(Bucket=shared_bucket, Prefix="mp/")
    assert listing["Contents"][0]["ETag"] == done["ETag"]


def test_bucket_acl_change_reaches_the_other_node(client, node_b, shared_bucket):
    client.put_object(Bucket=shared_bucket, Key="acl/pub.txt", Body=b"hello")
    url = node_b.get_conf().uri(bucket=shared_bucket, path="acl/pub.txt")
    headers = {"Host": vhost(node_b, shared_bucket)}
    assert requests.get(url, headers=headers, timeout=30).status_code == 403

    client.put_bucket_acl(Bucket=shared_bucket, ACL="public-read")
    time.sleep(1.1)  # each node trusts what it read of a bucket for 1 s
    anonymous = requests.get(url, headers=headers, timeout=30)
    assert anonymous.status_code == 200 and anonymous.content == b"hello"
    client.put_bucket_acl(Bucket=shared_bucket, ACL="private")
