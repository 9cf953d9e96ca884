"""The processed-variant cache through the official SDK: a second identical request is a hit
(the `x-mogr-cache` response header, not timing), overwrite and delete invalidate, the cache
never widens access, a matching ETag answers 304, a damaged entry is recomputed, concurrent
identical requests share one computation, and `mogr cache stats` / `purge` work beside the
running server.

Tests that touch the server's data folder or binary need MOGR_DATA_DIR / MOGR_BIN (set by
scripts/test.sh) and are skipped without them. Runs with the image-processing tests
(MOGR_CI_TESTS=0 turns it off).
"""

import io
import json
import os
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from conftest import signed_request, vhost

if os.environ.get("MOGR_CI_TESTS", "1") == "0":
    pytest.skip("image processing tests are off (MOGR_CI_TESTS=0)", allow_module_level=True)

RULE = "imageMogr2/thumbnail/160x/format/png"


def photo(w: int, h: int) -> bytes:
    im = Image.new("RGB", (w, h))
    im.putdata([(x * 255 // w, y * 255 // h, (x * y) % 251) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def new_key(client, bucket, w=320, h=240) -> str:
    key = f"cache/{uuid.uuid4().hex}.jpg"
    client.put_object(Bucket=bucket, Key=key, Body=photo(w, h))
    return key


def ci_get(client, bucket, key, rule, tmp_path):
    """ci_get_object into a file; returns (headers, bytes)."""
    dest = tmp_path / f"{uuid.uuid4().hex}.out"
    headers = client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest), Rule=rule)
    return headers, dest.read_bytes()


def size_of(data: bytes):
    return Image.open(io.BytesIO(data)).size


def cache_of(headers) -> str:
    return {k.lower(): v for k, v in headers.items()}.get("x-mogr-cache")


def test_second_identical_request_is_served_from_the_cache(client, bucket, tmp_path):
    key = new_key(client, bucket)
    h1, first = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h1) == "miss"
    assert size_of(first) == (160, 120)
    h2, second = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h2) == "hit"
    assert second == first
    assert h2["ETag"] == h1["ETag"]
    # The same rule spelt differently (quality moved, `=` appended) shares the entry.
    r = signed_request(client, "GET", bucket, key, params={"imageMogr2/format/png/thumbnail/160x": ""})
    assert r.status_code == 200, r.text
    assert r.headers["x-mogr-cache"] == "hit"
    assert r.content == first


def test_overwrite_and_delete_invalidate(client, bucket, tmp_path):
    key = new_key(client, bucket)
    h1, _ = ci_get(client, bucket, key, RULE, tmp_path)
    client.put_object(Bucket=bucket, Key=key, Body=photo(320, 320))
    h2, data = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h2) == "miss"
    assert size_of(data) == (160, 160)
    assert h2["ETag"] != h1["ETag"]
    client.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(CosServiceError) as info:
        ci_get(client, bucket, key, RULE, tmp_path)
    assert info.value.get_status_code() == 404


def test_unauthorised_caller_is_refused_even_for_a_cached_variant(server, client, bucket, tmp_path):
    key = new_key(client, bucket)
    h, _ = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h) == "miss"
    anonymous = CosS3Client(server.config(Anonymous=True), retry=0)
    with pytest.raises(CosServiceError) as info:
        ci_get(anonymous, bucket, key, RULE, tmp_path)
    assert info.value.get_status_code() == 403
    # A wrong key is refused too, before anything is served.
    wrong = CosS3Client(server.config(SecretKey="not-the-key"), retry=0)
    with pytest.raises(CosServiceError) as info:
        ci_get(wrong, bucket, key, RULE, tmp_path)
    assert info.value.get_status_code() == 403


def test_matching_etag_answers_304(client, bucket, tmp_path):
    key = new_key(client, bucket)
    h, _ = ci_get(client, bucket, key, RULE, tmp_path)
    for headers in ({"If-None-Match": h["ETag"]}, {"If-Modified-Since": h["Last-Modified"]}):
        r = signed_request(client, "GET", bucket, key, headers=headers, params={RULE: ""})
        assert r.status_code == 304, headers
        assert r.content == b""
        assert r.headers["ETag"] == h["ETag"]
    r = signed_request(client, "GET", bucket, key, headers={"If-None-Match": '"other"'}, params={RULE: ""})
    assert r.status_code == 200


def test_concurrent_identical_requests_share_one_computation(server, bucket, tmp_path):
    seed = server.client()
    key = new_key(seed, bucket, 1600, 1200)
    rule = "imageMogr2/thumbnail/800x/format/webp"
    clients = 8
    barrier = threading.Barrier(clients)
    results = [None] * clients

    def fetch(i):
        c = server.client()
        barrier.wait()
        results[i] = ci_get(c, bucket, key, rule, tmp_path)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in results)
    bodies = {r[1] for r in results}
    assert len(bodies) == 1
    assert size_of(results[0][1]) == (800, 600)
    outcomes = sorted(cache_of(h) for h, _ in results)
    assert outcomes.count("miss") == 1, outcomes


def data_dir() -> Path:
    d = os.environ.get("MOGR_DATA_DIR")
    if not d:
        pytest.skip("MOGR_DATA_DIR not set (scripts/test.sh sets it)")
    return Path(d)


def entries_of(bucket) -> list:
    root = data_dir() / "cache" / "v1" / bucket
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_damaged_entry_is_recomputed_not_served(client, bucket, tmp_path):
    key = new_key(client, bucket)
    before = set(entries_of(bucket))
    _, first = ci_get(client, bucket, key, RULE, tmp_path)
    new = set(entries_of(bucket)) - before
    assert len(new) == 1
    entry = new.pop()
    raw = bytearray(entry.read_bytes())
    raw[-1] ^= 0xFF
    entry.write_bytes(bytes(raw))
    h, again = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h) == "miss"
    assert again == first


def mogr(*args) -> str:
    binary = os.environ.get("MOGR_BIN")
    if not binary:
        pytest.skip("MOGR_BIN not set (scripts/test.sh sets it)")
    out = subprocess.run([binary, "cache", *args, "--data", str(data_dir())],
                         capture_output=True, text=True, timeout=60, env={k: v for k, v in os.environ.items() if k != "MOGR_CONFIG"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_stats_and_purge_beside_the_running_server(client, bucket, tmp_path):
    key = new_key(client, bucket)
    ci_get(client, bucket, key, RULE, tmp_path)
    stats = json.loads(mogr("stats", "--json"))
    assert stats["buckets"][bucket]["entries"] >= 1
    assert stats["bytes"] >= stats["buckets"][bucket]["bytes"] > 0
    out = mogr("purge", f"{bucket}/{key}")
    assert out.startswith("purged 1 entries"), out
    h, _ = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h) == "miss"
    mogr("purge", bucket)
    assert entries_of(bucket) == []
    h, _ = ci_get(client, bucket, key, RULE, tmp_path)
    assert cache_of(h) == "miss"
