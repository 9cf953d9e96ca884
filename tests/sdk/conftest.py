"""Fixtures for driving a running `mogr serve` with the official cos-python-sdk-v5.

The server is found through the environment (scripts/test.sh sets all of it):
  MOGR_ENDPOINT_HOST (default 127.0.0.1), MOGR_ENDPOINT_PORT, MOGR_SECRET_ID, MOGR_SECRET_KEY,
  MOGR_REGION (default ap-guangzhou), MOGR_SERVER_PID (optional, for memory reports).
Without them every test is skipped with a message saying how to run the suite.
"""

import base64
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import crcmod
import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

APPID = "1250000000"
CORPUS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"

# Lines printed after the run (memory figures and the like): pytest captures test output.
REPORT_LINES = []


@dataclass(frozen=True)
class Server:
    """Where the server under test listens and the credentials it accepts."""

    host: str
    port: int
    secret_id: str
    secret_key: str
    region: str
    pid: int | None

    def config(self, **overrides) -> CosConfig:
        """A CosConfig in IP/Port mode: the bucket travels in Host."""
        kwargs = dict(
            Region=self.region,
            IP=self.host,
            Port=self.port,
            Scheme="http",
            SecretId=self.secret_id,
            SecretKey=self.secret_key,
            Timeout=300,
        )
        kwargs.update(overrides)
        return CosConfig(**kwargs)

    def client(self, **overrides) -> CosS3Client:
        """An SDK client; retry=0 so a 5xx fails the test at once instead of being retried."""
        return CosS3Client(self.config(**overrides), retry=0)

    def rss_report(self, label: str) -> None:
        """Records the server's peak and current resident memory, when /proc shows them."""
        if not self.pid:
            return
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return
        fields = dict(
            line.split(":", 1) for line in status.splitlines() if line.startswith(("VmHWM", "VmRSS"))
        )
        REPORT_LINES.append(
            f"mogr serve memory {label}: peak (VmHWM) {fields.get('VmHWM', '?').strip()}, "
            f"now (VmRSS) {fields.get('VmRSS', '?').strip()}"
        )


def pytest_terminal_summary(terminalreporter):
    if REPORT_LINES:
        terminalreporter.section("mogr SDK suite notes")
        for line in REPORT_LINES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def server() -> Server:
    env = os.environ
    missing = [n for n in ("MOGR_ENDPOINT_PORT", "MOGR_SECRET_ID", "MOGR_SECRET_KEY") if not env.get(n)]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not set: run scripts/test.sh, or start `mogr serve` and export "
            "MOGR_ENDPOINT_PORT, MOGR_SECRET_ID and MOGR_SECRET_KEY"
        )
    pid = env.get("MOGR_SERVER_PID")
    return Server(
        host=env.get("MOGR_ENDPOINT_HOST", "127.0.0.1"),
        port=int(env["MOGR_ENDPOINT_PORT"]),
        secret_id=env["MOGR_SECRET_ID"],
        secret_key=env["MOGR_SECRET_KEY"],
        region=env.get("MOGR_REGION", "ap-guangzhou"),
        pid=int(pid) if pid else None,
    )


@pytest.fixture(scope="session")
def client(server) -> CosS3Client:
    return server.client()


def new_bucket_name(prefix: str = "sdktest") -> str:
    """A bucket name in COS's `name-appid` form that no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}-{APPID}"


def empty_and_delete_bucket(client: CosS3Client, bucket: str) -> None:
    """Removes every object and pending upload, then the bucket (teardown helper)."""
    try:
        uploads = client.list_multipart_uploads(Bucket=bucket)
        for up in uploads.get("Upload", []) or []:
            client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
    except CosServiceError:
        pass
    marker = ""
    while True:
        listing = client.list_objects(Bucket=bucket, Marker=marker, MaxKeys=1000)
        keys = [c["Key"] for c in listing.get("Contents", [])]
        if keys:
            client.delete_objects(
                Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": k} for k in keys]}
            )
        if listing.get("IsTruncated") != "true":
            break
        marker = listing.get("NextMarker") or keys[-1]
    client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def bucket(client) -> str:
    """A fresh private bucket for one test module, emptied and deleted afterwards."""
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    yield name
    try:
        empty_and_delete_bucket(client, name)
    except Exception as exc:  # teardown must not hide the module's own results
        REPORT_LINES.append(f"teardown of bucket {name} failed: {exc!r}")


def vhost(client: CosS3Client, bucket: str) -> str:
    """The virtual-host name the SDK puts in Host for this bucket."""
    return client.get_conf().get_host(bucket)


def signed_request(client, method, bucket, key, headers=None, params=None, data=None, stream=False):
    """Sends a request signed by the SDK's own signer, for checks the SDK cannot show
    (status codes such as 206/304, raw header bytes)."""
    headers = dict(headers or {})
    params = dict(params or {})
    headers["Host"] = vhost(client, bucket)
    auth = client.get_auth(
        Method=method, Bucket=bucket, Key=key or "/", Headers=headers, Params=params
    )
    url = client.get_conf().uri(bucket=bucket, path=key) if key else client.get_conf().uri(bucket=bucket)
    headers["Authorization"] = auth
    return requests.request(method, url, headers=headers, params=params, data=data, stream=stream, timeout=300)


_crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def crc64(data: bytes) -> str:
    """CRC-64/XZ as COS prints it in x-cos-hash-crc64ecma (the SDK's own parameters)."""
    return str(_crc64(data))


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def quoted_md5(data: bytes) -> str:
    """The ETag COS gives a single-PUT object: the MD5 hex in double quotes."""
    return f'"{md5_hex(data)}"'


def read_body(response) -> bytes:
    """All bytes of a get_object response, read the way SDK users do (StreamBody.read)."""
    body, chunks = response["Body"], []
    while True:
        chunk = body.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def corpus_file(name: str) -> Path:
    """A file of the shared corpus, or a skip that says the corpus is absent."""
    path = CORPUS_DIR / name
    if not path.exists():
        pytest.skip(f"skipped: corpus absent ({path})")
    return path
