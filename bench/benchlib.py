"""Shared helpers for the bench/ scripts (Python 3.11 standard library only).

Run `python3 bench/benchlib.py` to self-check the COS signature against the spec's vectors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CORPUS = Path(os.environ.get("MOGR_CORPUS", REPO.parent / "shared" / "corpus"))
RESULTS = BENCH_DIR / "results"
DEFAULT_MOGR = REPO / "target" / "release" / "mogr"
# The real ImageMagick, not the PNG-preview stand-in some images put in /usr/local/bin.
IM_CONVERT = "/usr/bin/convert"

# Test credentials for the throw-away servers the benchmarks start; never real keys.
SECRET_ID = "AKIDbenchmogr0000000000000000000000"
SECRET_KEY = "benchmogrsecretkey00000000000000"
BUCKET = "bench-1250000000"


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays the markdown report."""
    print(message, file=sys.stderr, flush=True)


def die(message: str, code: int = 1) -> None:
    """One clear line, then exit (no traceback for expected conditions)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------- tools


_apt_updated = False


def ensure_packages(needed: dict[str, str]) -> None:
    """Installs the Debian package for each missing executable (path or name -> package)."""
    global _apt_updated
    missing = sorted({pkg for exe, pkg in needed.items() if not _have(exe)})
    if not missing:
        return
    if os.geteuid() != 0:
        die(f"missing tools; run: sudo apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)} (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", *missing]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0 and not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        _apt_updated = True
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
    still = [exe for exe in needed if not _have(exe)]
    if still:
        die(f"still missing after apt-get: {', '.join(still)}")


def _have(exe: str) -> bool:
    if "/" in exe:
        return os.access(exe, os.X_OK)
    return shutil.which(exe) is not None


def mogr_binary(path: str | None, required: bool = True) -> Path | None:
    """The mogr release binary, or a clear message on how to build it."""
    binary = Path(path or os.environ.get("MOGR_BIN", DEFAULT_MOGR))
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    if required:
        die(
            f"mogr binary not found at {binary}.\n"
            f"  build it first:  (cd {REPO} && cargo build --release -p mogr)\n"
            f"  or point at one: --mogr PATH / MOGR_BIN=PATH\n"
            f"  or measure only the peers: --peers-only"
        )
    return None


def corpus_file(name: str) -> Path:
    """A corpus image, or a clear message when the corpus is absent."""
    path = CORPUS / name
    if not path.is_file():
        die(f"corpus file missing: {path} (set MOGR_CORPUS to the corpus folder)")
    return path


def jpeg_quality(path: Path) -> int | None:
    """The JPEG quality ImageMagick estimates from the quantisation tables (what 'inherit' means)."""
    out = subprocess.run(
        ["identify", "-format", "%Q", str(path)], capture_output=True, text=True
    )
    try:
        return int(out.stdout.strip().split()[0])
    except (ValueError, IndexError):
        return None


def image_kind(head: bytes) -> str:
    """The container format from an image's first bytes (jpeg, png, gif, webp, heif, avif)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"GIF8"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "avif" if head[8:12] in (b"avif", b"avis") else "heif"
    return "unknown"


def image_geometry(path: Path) -> tuple[int, int, int] | None:
    """(canvas width, canvas height, frames) as ImageMagick's identify reads them, None if unreadable."""
    out = subprocess.run(
        ["identify", "-format", "%W %H\n", str(path)], capture_output=True, text=True
    )
    lines = [ln.split() for ln in out.stdout.splitlines() if ln.strip()]
    if out.returncode != 0 or not lines:
        return None
    try:
        return int(lines[0][0]), int(lines[0][1]), len(lines)
    except (ValueError, IndexError):
        return None


# ---------------------------------------------------------------- stats and tables


def median(values: list[float]) -> float:
    """Median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def ratio(a: float | None, b: float | None) -> str:
    """a/b as '0.42x', or an en dash when either side is missing."""
    if a is None or b is None or b == 0 or a != a or b != b:
        return "–"
    return f"{a / b:.2f}x"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note() -> str:
    """What the numbers were measured on, for the report header."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores ({cpu}), "
        f"load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def write_report(name: str, text: str) -> Path:
    """Writes bench/results/<name>-<date>.md (gitignored) and returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- processes


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    """Waits until something listens on 127.0.0.1:port, or dies with the server's exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            die(f"server exited with status {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    die(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop(proc: subprocess.Popen | None) -> None:
    """Stops a server this script started (its own process group), politely then firmly."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_server(cmd: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
    """Starts a server in its own process group so stop() ends it and its children only."""
    log_file = open(log_path, "ab")
    return subprocess.Popen(
        cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
    )


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (thumbor and nginx fork workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def vm_hwm_kb(pid: int) -> int:
    """Peak resident set (VmHWM) of one process in KiB, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_hwm(root: int) -> None:
    """Resets VmHWM of a process tree (clear_refs 5), so the next peak is this case's alone."""
    for pid in tree_pids(root):
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def tree_cpu_seconds(root: int) -> float:
    """user+sys seconds used so far by a process tree (live processes only)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def tree_hwm_mb(root: int) -> float:
    """Sum of the peak RSS of a process and its children, MiB (an upper bound: shared pages count twice)."""
    return sum(vm_hwm_kb(pid) for pid in tree_pids(root)) / 1024


# ---------------------------------------------------------------- COS q-sign (docs/cos-protocol.md)


def cos_quote(value: str) -> str:
    """COS UrlEncode: everything but A-Z a-z 0-9 - _ . ~ percent-encoded."""
    return urllib.parse.quote(value, safe="-_.~")


def _pairs(items: dict[str, str]) -> tuple[str, str]:
    encoded = sorted((cos_quote(k).lower(), cos_quote(v)) for k, v in items.items())
    return "&".join(f"{k}={v}" for k, v in encoded), ";".join(k for k, _ in encoded)


def cos_authorization(
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    start: int | None = None,
    end: int | None = None,
    secret_id: str = SECRET_ID,
    secret_key: str = SECRET_KEY,
) -> str:
    """The q-sign Authorization value for a request; `path` is the decoded path."""
    start = int(time.time()) - 60 if start is None else start
    end = start + 3600 if end is None else end
    key_time = f"{start};{end}"
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    http_params, param_list = _pairs(params or {})
    http_headers, header_list = _pairs({k.lower(): v for k, v in (headers or {}).items()})
    http_string = f"{method.lower()}\n{path}\n{http_params}\n{http_headers}\n"
    string_to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    signature = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    return (
        f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}"
        f"&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}"
    )


def cos_presigned_query(method: str, path: str, lifetime: int = 7 * 86400) -> str:
    """Query string of a presigned URL signing only method and path, so any Host works."""
    auth = cos_authorization(method, path, end=int(time.time()) + lifetime)
    return "&".join(
        f"{k}={cos_quote(v)}" for k, v in (kv.split("=", 1) for kv in auth.split("&"))
    )


def s3_presigned_target(
    method: str, host: str, bucket: str, key: str, access_key: str, secret_key: str,
    region: str, lifetime: int = 7 * 86400,
) -> str:
    """Path and query of an AWS SigV4 presigned URL (path-style, only `host` signed, payload
    unsigned), so wrk can send signed requests straight to an S3 engine."""
    now = time.gmtime()
    amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
    scope = f"{day}/{region}/s3/aws4_request"
    path = f"/{bucket}/" + urllib.parse.quote(key, safe="/-_.~")
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(lifetime),
        "X-Amz-SignedHeaders": "host",
    }
    query = "&".join(
        f"{cos_quote(k)}={cos_quote(v)}" for k, v in sorted(params.items())
    )
    canonical = f"{method}\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
    to_sign = (
        f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )
    signing_key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{path}?{query}&X-Amz-Signature={signature}"


@dataclass
class HttpResult:
    """Status, headers and body of one request."""

    status: int
    headers: dict[str, str]
    body: bytes


def http_request(
    port: int, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> HttpResult:
    """One HTTP/1.1 request to 127.0.0.1:port (http.client, so no proxy settings apply)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return HttpResult(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def signed_request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> HttpResult:
    """A request signed like the Python SDK does (host and x-cos-* headers signed)."""
    headers = dict(headers or {})
    headers.setdefault("Host", f"127.0.0.1:{port}")
    signed = {k: v for k, v in headers.items() if k.lower() == "host" or k.lower().startswith("x-cos-")}
    signed["host"] = headers["Host"]
    signed.pop("Host", None)
    headers["Authorization"] = cos_authorization(method, urllib.parse.unquote(path), headers=signed)
    return http_request(port, method, path, body, headers)


# ---------------------------------------------------------------- mogr server


# mogr computes every processed response again: the variant cache is off.
NO_VARIANT_CACHE = "[cache]\nmax_bytes = 0\n"


class MogrServer:
    """A throw-away `mogr serve` on loopback with one bucket, path-style addressing."""

    def __init__(
        self, binary: Path, work: Path, config: str | None = None, name: str = "mogr",
        port: int | None = None, extra_args: tuple[str, ...] = (),
    ):
        """`config`: TOML text for `--config` (None: the defaults); `name` keeps the data
        folder, log and config of two servers in one `work` apart; `port` (default: a free
        one) and `extra_args` (more `mogr serve` flags) for scripts that run several nodes."""
        self.port = port or free_port()
        self.data = work / f"{name}-data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.log_path = work / f"{name}.log"
        extra = []
        if config is not None:
            conf = work / f"{name}.toml"
            conf.write_text(config)
            extra = ["--config", str(conf)]
        self.proc = start_server(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data),
             "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY, *extra, *extra_args],
            self.log_path,
        )
        wait_port(self.port, self.proc)
        self.anonymous = False

    def path(self, key: str) -> str:
        """The request path of a key in the bench bucket."""
        return f"/{BUCKET}/{urllib.parse.quote(key)}"

    def create_bucket(self, acl: str) -> None:
        """PUT Bucket with an x-cos-acl, signed; an existing bucket is fine."""
        r = signed_request(self.port, "PUT", f"/{BUCKET}/", headers={"x-cos-acl": acl})
        if r.status not in (200, 409):
            self.fail(f"PUT bucket answered {r.status}: {r.body[:300]!r}")

    def put(self, key: str, body: bytes) -> None:
        """Signed PUT Object."""
        r = signed_request(self.port, "PUT", self.path(key), body=body)
        if r.status != 200:
            self.fail(f"PUT {key} answered {r.status}: {r.body[:300]!r}")

    def choose_access(self, probe_get: str, probe_put: str | None = None) -> str:
        """Anonymous requests if the ACL lets them through, else presigned URLs; says which."""
        ok = http_request(self.port, "GET", probe_get).status == 200
        if ok and probe_put is not None:
            ok = http_request(self.port, "PUT", probe_put, body=b"x" * 16).status == 200
        self.anonymous = ok
        return "anonymous (bucket ACL)" if ok else "presigned URLs (q-sign in the query)"

    def target(self, method: str, key: str, rule: str = "") -> str:
        """A request target for wrk: anonymous or presigned, with an unsigned rule appended."""
        path = self.path(key)
        query = [] if self.anonymous else [cos_presigned_query(method, urllib.parse.unquote(path))]
        if rule:
            query.append(rule)
        return path + ("?" + "&".join(query) if query else "")

    def fail(self, message: str) -> None:
        """Dies with the server's last log lines, after stopping it."""
        stop(self.proc)
        tail = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
        die(f"mogr: {message}\n--- mogr log tail ---\n{tail}")


# ---------------------------------------------------------------- wrk

# wrk's done() hook prints one JSON line we parse, instead of scraping the human summary.
WRK_DONE_LUA = r"""
done = function(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do table.insert(codes, string.format('[%d,%d]', k, v)) end
    end
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_err":%d,' ..
    '"read_err":%d,"write_err":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"statuses":[%s]}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(codes, ",")))
end
"""

# Counting statuses needs wrk's response() hook, which makes wrk hand every body to Lua: only
# for runs whose responses are few or small (processing), not for 1 MiB GETs at line rate.
WRK_STATUS_LUA = r"""
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def wrk_paths_lua(
    method: str, paths: list[str], body_file: Path | None = None, count_statuses: bool = False
) -> str:
    """A wrk script spreading requests over `paths` at random, optionally with a file as body."""
    lines = ["local paths = {"]
    lines += [f"  {json.dumps(p)}," for p in paths]
    lines.append("}")
    if body_file is not None:
        lines += [
            f"local f = assert(io.open({json.dumps(str(body_file))}, 'rb'))",
            "local body = f:read('*a')",
            "f:close()",
        ]
    else:
        lines.append("local body = nil")
    lines += [
        "threads = {}",
        "setup = function(thread) table.insert(threads, thread) end",
        "init = function(args)",
        "  statuses = {}",
        "  math.randomseed(os.time() + math.floor(os.clock() * 1e6))",
        "end",
        "request = function()",
        "  local path = paths[math.random(#paths)]",
        f"  return wrk.format({json.dumps(method)}, path, nil, body)",
        "end",
    ]
    if count_statuses:
        lines.append(WRK_STATUS_LUA)
    return "\n".join(lines) + "\n" + WRK_DONE_LUA


@dataclass
class WrkResult:
    """What one wrk run measured. Latency percentiles cover every response, rejected ones too."""

    requests: int
    ok: int
    seconds: float
    bytes_read: int
    errors: int
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Successful (2xx/3xx) requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def error_share(self) -> float:
        """Failed requests (non-2xx/3xx, socket errors, timeouts) as a share of all attempts."""
        socket_errors = self.errors - (self.requests - self.ok)
        total = self.requests + socket_errors
        return self.errors / total if total else 0.0

    def error_text(self) -> str:
        """'0', or the count with the statuses seen, e.g. '812 (503: 812)'."""
        if not self.errors:
            return "0"
        bad = {k: v for k, v in self.statuses.items() if not 200 <= k < 400}
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
        return f"{self.errors} ({detail})" if detail else str(self.errors)


def run_wrk(
    base_url: str, lua: str, script_path: Path, connections: int, threads: int, duration: int,
    timeout: int = 30,
) -> WrkResult:
    """Runs wrk with a generated script and parses its WRKJSON line."""
    script_path.write_text(lua)
    threads = max(1, min(threads, connections))
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", f"{timeout}s",
        "-s", str(script_path), base_url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    return parse_wrk(out.stdout, out.stderr)


def parse_wrk(stdout: str, stderr: str = "") -> WrkResult:
    """The result in the WRKJSON line a wrk script from `wrk_paths_lua` prints."""
    for line in stdout.splitlines():
        if line.startswith("WRKJSON "):
            d = json.loads(line[len("WRKJSON "):])
            statuses: dict[int, int] = {}
            for code, count in d["statuses"]:
                statuses[code] = statuses.get(code, 0) + count
            errors = d["non2xx"] + d["connect_err"] + d["read_err"] + d["write_err"] + d["timeouts"]
            return WrkResult(
                requests=d["requests"], ok=d["requests"] - d["non2xx"],
                seconds=d["duration_us"] / 1e6, bytes_read=d["bytes"], errors=errors,
                statuses=statuses, p50_ms=d["p50_us"] / 1000, p99_ms=d["p99_us"] / 1000,
            )
    die(f"wrk gave no result: {stdout[-500:]} {stderr[-500:]}")
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- self-check


def _self_check() -> None:
    """The public COS vectors (official PUT example, a processing rule) must reproduce exactly."""
    doc_id, doc_key = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
    v1 = cos_authorization(
        "PUT", "/exampleobject(腾讯云)",
        headers={
            "Date": "Thu, 16 May 2019 06:45:51 GMT",
            "Host": "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
            "Content-Type": "text/plain", "Content-Length": "13",
            "Content-MD5": "mQ/fVh815F3k6TAUm8m0eg==", "x-cos-acl": "private",
            "x-cos-grant-read": 'uin="100000000011"',
        },
        start=1557989151, end=1557996351, secret_id=doc_id, secret_key=doc_key,
    )
    v4 = cos_authorization(
        "GET", "/exampleobject.jpg", params={"imageMogr2/thumbnail/!50p": ""},
        headers={"host": "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"},
        start=1557989151, end=1557996351, secret_id=doc_id, secret_key=doc_key,
    )
    assert v1.endswith("q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172"), v1
    assert v4.endswith("q-signature=c1c5a8a4477be584c5e2425b31aebe562324c894"), v4
    assert "q-url-param-list=imagemogr2%2fthumbnail%2f%2150p&" in v4, v4
    print("cos signature: V1 and V4 reproduce")


if __name__ == "__main__":
    _self_check()
