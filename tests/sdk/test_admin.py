"""The admin listener from an SDK user's side: what the official SDK does shows up in
/metrics, /health and /ready answer, and on the public port `metrics` is just a key.

Needs MOGR_ADMIN_URL (scripts/test.sh sets it to the server's admin listener)."""

import os
from io import BytesIO

import pytest
import requests
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from conftest import read_body

ADMIN = os.environ.get("MOGR_ADMIN_URL", "").rstrip("/")
pytestmark = pytest.mark.skipif(not ADMIN, reason="MOGR_ADMIN_URL not set: run scripts/test.sh")


def scrape() -> dict:
    """The samples of /metrics: 'name{labels}' -> value."""
    res = requests.get(f"{ADMIN}/metrics", timeout=30)
    assert res.status_code == 200
    assert res.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for line in res.text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        samples[series] = float(value)
    return samples


def moved(before: dict, after: dict, series: str) -> float:
    return after.get(series, 0.0) - before.get(series, 0.0)


def test_sdk_requests_move_the_counters(client, bucket):
    body = os.urandom(3000)
    before = scrape()
    client.put_object(Bucket=bucket, Key="admin/counted.bin", Body=body)
    assert read_body(client.get_object(Bucket=bucket, Key="admin/counted.bin")) == body
    after = scrape()
    assert moved(before, after, 'mogr_http_requests_total{operation="PutObject",status="200"}') == 1
    assert moved(before, after, 'mogr_http_requests_total{operation="GetObject",status="200"}') == 1
    assert moved(before, after, 'mogr_http_request_bytes_total{operation="PutObject"}') == len(body)
    assert moved(before, after, 'mogr_http_response_bytes_total{operation="GetObject"}') == len(body)
    assert (
        moved(before, after, 'mogr_http_request_duration_seconds_count{operation="GetObject"}') == 1
    )


def test_processing_is_counted_by_mode_format_and_outcome(client, bucket, tmp_path):
    buf = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    client.put_object(Bucket=bucket, Key="admin/red.png", Body=buf.getvalue())
    series = 'mogr_image_jobs_total{mode="download",format="webp",outcome="ok"}'
    before = scrape()
    headers = client.ci_get_object(
        # Never os.devnull: the SDK writes a temporary file and renames it over the destination.
        Bucket=bucket,
        Key="admin/red.png",
        DestImagePath=str(tmp_path / "red.webp"),
        Rule="imageMogr2/format/webp",
    )
    assert headers["Content-Type"] == "image/webp"
    after = scrape()
    assert moved(before, after, series) == 1
    assert moved(before, after, 'mogr_image_job_duration_seconds_count{mode="download"}') == 1


def test_health_and_ready():
    assert requests.get(f"{ADMIN}/health", timeout=30).status_code == 200
    ready = requests.get(f"{ADMIN}/ready", timeout=30)
    assert (ready.status_code, ready.text.strip()) == (200, "ready")


def test_metrics_is_an_ordinary_key_on_the_public_port(client, bucket):
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="metrics")
    assert err.value.get_error_code() == "NoSuchKey"
    client.put_object(Bucket=bucket, Key="metrics", Body=b"not the metrics page")
    assert read_body(client.get_object(Bucket=bucket, Key="metrics")) == b"not the metrics page"
