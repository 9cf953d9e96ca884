"""The image memory budget through the official SDK, on a server of its own started with a
small `[limits] max_memory`: a job that can never fit is 400 ImageTooLarge (the original with
`ignore-error/1`), in all three processing modes; jobs that fit alone but not together are
refused with 503 SlowDown and a Retry-After while the budget is taken; small jobs run.

Needs MOGR_BIN (scripts/test.sh exports it); skipped otherwise.
"""

import io
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from PIL import Image
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from conftest import new_bucket_name, read_body, empty_and_delete_bucket

if os.environ.get("MOGR_CI_TESTS", "1") == "0":
    pytest.skip("image processing tests are off (MOGR_CI_TESTS=0)", allow_module_level=True)

BUDGET = 96 << 20
SECRET_ID, SECRET_KEY = "AKIDmemorytest", "memory-test-secret-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def small_server():
    """`mogr serve` with a 96 MiB image memory budget and no waiting for room."""
    binary = os.environ.get("MOGR_BIN")
    if not binary or not Path(binary).exists():
        pytest.skip("MOGR_BIN not set: run scripts/test.sh")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mogr.toml"
        config.write_text(f"[limits]\nmax_memory = {BUDGET}\nmemory_wait_ms = 0\n")
        port = free_port()
        proc = subprocess.Popen(
            [binary, "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
             "--data", str(Path(tmp) / "data"), "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert proc.poll() is None, "mogr serve exited early"
                    time.sleep(0.2)
            conf = CosConfig(Region="ap-guangzhou", IP="127.0.0.1", Port=port, Scheme="http",
                             SecretId=SECRET_ID, SecretKey=SECRET_KEY, Timeout=120)
            client = CosS3Client(conf, retry=0)
            bucket = new_bucket_name("memtest")
            client.create_bucket(Bucket=bucket)
            yield client, bucket
            empty_and_delete_bucket(client, bucket)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def png(size, colour=(200, 40, 90)) -> bytes:
    """A flat PNG: tiny on disk, `size` pixels once decoded."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG", optimize=False)
    return buf.getvalue()


def expect_error(call, status, code):
    with pytest.raises(CosServiceError) as info:
        call()
    err = info.value
    assert (err.get_status_code(), err.get_error_code()) == (status, code), err.get_origin_msg()
    return err


def test_a_small_job_runs(small_server, tmp_path):
    client, bucket = small_server
    client.put_object(Bucket=bucket, Key="small.png", Body=png((64, 48)))
    dest = tmp_path / "out.webp"
    client.ci_get_object(Bucket=bucket, Key="small.png", DestImagePath=str(dest),
                         Rule="imageMogr2/format/webp")
    out = Image.open(dest)
    assert (out.format, out.size) == ("WEBP", (64, 48))


def test_a_job_that_can_never_fit_is_image_too_large(small_server, tmp_path):
    client, bucket = small_server
    big = png((6000, 6000))  # 36 MP: over 96 MiB once decoded and encoded
    client.put_object(Bucket=bucket, Key="big.png", Body=big)
    dest = tmp_path / "out"
    err = expect_error(lambda: client.ci_get_object(
        Bucket=bucket, Key="big.png", DestImagePath=str(dest), Rule="imageMogr2/format/webp"),
        400, "ImageTooLarge")
    assert "max_memory" in err.get_error_msg()
    # ignore-error/1: the original comes back.
    client.ci_get_object(Bucket=bucket, Key="big.png", DestImagePath=str(dest),
                         Rule="imageMogr2/format/webp/ignore-error/1")
    assert dest.read_bytes() == big
    # Upload with Pic-Operations and in-cloud processing refuse it the same way, storing nothing.
    ops = json.dumps({"rules": [{"fileid": "big.webp", "rule": "imageMogr2/format/webp"}]})
    expect_error(lambda: client.ci_put_object(Bucket=bucket, Key="up/big.png", Body=big,
                                              PicOperations=ops), 400, "ImageTooLarge")
    assert not client.object_exists(Bucket=bucket, Key="up/big.png")
    expect_error(lambda: client.ci_image_process(Bucket=bucket, Key="big.png", PicOperations=ops),
                 400, "ImageTooLarge")
    assert not client.object_exists(Bucket=bucket, Key="big.webp")
    # With ignore-error/1 the upload stores the original as the output.
    ops = json.dumps({"rules": [{"fileid": "kept.png",
                                 "rule": "imageMogr2/format/webp/ignore-error/1"}]})
    client.ci_put_object(Bucket=bucket, Key="up/big.png", Body=big, PicOperations=ops)
    assert read_body(client.get_object(Bucket=bucket, Key="up/kept.png")) == big


def test_jobs_that_do_not_fit_together_get_slow_down(small_server):
    client, bucket = small_server
    # About 40 MiB predicted each: two fit in 96 MiB, eight at once do not.
    client.put_object(Bucket=bucket, Key="mid.png", Body=png((1400, 1000)))
    host = client.get_conf().get_host(bucket)
    # Eight different variants: identical requests would share one computation (the variant
    # cache's single flight) and never compete for memory.
    urls = [client.get_presigned_url(Method="GET", Bucket=bucket, Key="mid.png", Expired=300,
                                     Headers={"Host": host},
                                     Params={f"imageMogr2/format/webp/quality/{60 + i}": ""})
            for i in range(8)]
    start = threading.Barrier(8)
    results = []

    def fetch(url):
        start.wait()
        r = requests.get(url, headers={"Host": host}, timeout=120)
        results.append((r.status_code, r.headers.get("Retry-After"), r.content))

    threads = [threading.Thread(target=fetch, args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy = [r for r in results if r[0] == 503]
    done = [r for r in results if r[0] == 200]
    assert len(busy) + len(done) == 8, [r[0] for r in results]
    assert busy and done, [r[0] for r in results]
    for _, retry_after, body in busy:
        assert retry_after == "1"
        assert b"<Code>SlowDown</Code>" in body
    for _, _, body in done:
        assert Image.open(io.BytesIO(body)).size == (1400, 1000)
