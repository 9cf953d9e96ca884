#!/usr/bin/env python3
"""Load and soak: many concurrent clients with a realistic mix against a release `mogr serve`.

    nice -n 10 python3 bench/soak.py --duration 600 --clients 64 [--mogr target/release/mogr]

Each client loops over a weighted mix: GET, ranged GET, PUT, multipart upload (complete or
abort), listing with a delimiter, download conversions (imageMogr2 on GET) and Pic-Operations
uploads. Bodies are checked (MD5 of GETs and ranges, ETags of PUTs), so corruption counts
as an error. The only failure that is allowed is 503 SlowDown with a short Retry-After;
anything else (other statuses, wrong bytes, dropped connections) is an error, and the script
exits 1 if there was any. It samples the server's RSS, open descriptors and threads every
second and reports them at the start, at the peak and at the end (after a short idle), with
p50/p99 latency per operation. Standard library only (see benchlib.py).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import statistics
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as bl

# Longest Retry-After a SlowDown may carry and still count as a polite refusal.
MAX_RETRY_AFTER = 5
PART = 1024 * 1024

# (operation, weight)
MIX = [
    ("get", 30),
    ("range_get", 12),
    ("put", 14),
    ("list", 10),
    ("multipart", 3),
    ("convert", 18),
    ("pic_operations", 5),
]

CONVERSIONS = [
    ("photo_rocket.jpg", "imageMogr2/thumbnail/256x/format/webp"),
    ("photo_rocket.jpg", "imageMogr2/crop/300x300/gravity/center/quality/80"),
    ("static_lossy_800x534.webp", "imageMogr2/thumbnail/400x/format/jpg"),
    ("alpha_abc_rgba.png", "imageMogr2/format/webp"),
    ("photo_path_2560x1600.jpg", "imageMogr2/thumbnail/800x/quality/75"),
    ("photo_rocket.jpg", "imageInfo"),
]


@dataclass
class Stats:
    """Latencies, SlowDowns and errors of every operation (shared by the client threads)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    slowdowns: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, op: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(op, []).append(seconds)

    def slowdown(self, op: str) -> None:
        with self.lock:
            self.slowdowns[op] = self.slowdowns.get(op, 0) + 1

    def error(self, op: str, detail: str) -> None:
        with self.lock:
            self.errors[op] = self.errors.get(op, 0) + 1
            if len(self.samples) < 20:
                self.samples.append(f"{op}: {detail}")


class Refused(Exception):
    """A 503 SlowDown with a short Retry-After: allowed under load."""


class Failed(Exception):
    """Anything a client must not see."""


class Client:
    """One keep-alive connection, signing like the Python SDK (host, x-cos-*, pic-operations)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        key: str,
        query: dict[str, str] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        raw_query: str = "",
    ) -> tuple[int, dict[str, str], bytes]:
        path = "/" + urllib.parse.quote(key) if key else "/"
        headers = dict(headers or {})
        host = f"{bl.BUCKET}.cos.ap-guangzhou.myqcloud.com"
        headers["Host"] = host
        signed = {
            k.lower(): v
            for k, v in headers.items()
            if k.lower().startswith("x-cos-") or k.lower() == "pic-operations"
        }
        signed["host"] = host
        params = dict(query or {})
        headers["Authorization"] = bl.cos_authorization(method, "/" + key, params, signed)
        qs = "&".join(
            f"{bl.cos_quote(k)}={bl.cos_quote(v)}" if v != "" else bl.cos_quote(k)
            for k, v in params.items()
        )
        if raw_query:
            qs = f"{qs}&{raw_query}" if qs else raw_query
        target = path + ("?" + qs if qs else "")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, target, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                out = {k.lower(): v for k, v in resp.getheaders()}
                if out.get("connection", "").lower() == "close":
                    self.close()
                return resp.status, out, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # A keep-alive connection the server closed while idle is retried once on a
                # fresh one; a fresh one failing is an error.
                self.close()
                if attempt == 1:
                    raise Failed(f"{method} {key}: connection failed: {e}") from e
        raise Failed("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check(status: int, headers: dict[str, str], body: bytes, want: tuple[int, ...], what: str) -> None:
    """Raise Refused for an allowed SlowDown, Failed for anything but `want`."""
    if status in want:
        return
    if status == 503 and b"<Code>SlowDown</Code>" in body:
        retry = headers.get("retry-after", "")
        if retry.isdigit() and int(retry) <= MAX_RETRY_AFTER:
            raise Refused()
        raise Failed(f"{what}: SlowDown with Retry-After {retry!r}")
    raise Failed(f"{what}: {status} {body[:200]!r}")


class World:
    """What the clients know: preloaded objects with their MD5s, images, the key spaces."""

    def __init__(self, client: Client, seed: int):
        rng = random.Random(seed)
        self.objects: dict[str, tuple[bytes, str]] = {}
        for i in range(200):
            size = rng.choice([1024, 16 * 1024, 100 * 1024, 512 * 1024, 2 * 1024 * 1024])
            data = rng.randbytes(size)
            key = f"data/{i % 10}/obj-{i:04}.bin"
            status, headers, body = client.request("PUT", key, body=data)
            check(status, headers, body, (200,), f"preload {key}")
            self.objects[key] = (data, hashlib.md5(data).hexdigest())
        self.images: dict[str, bytes] = {}
        for name in {name for name, _ in CONVERSIONS}:
            data = bl.corpus_file(name).read_bytes()
            status, headers, body = client.request("PUT", f"img/{name}", body=data)
            check(status, headers, body, (200,), f"preload {name}")
            self.images[name] = data
        self.keys = sorted(self.objects)


def op_get(c: Client, w: World, rng: random.Random) -> None:
    key = rng.choice(w.keys)
    status, headers, body = c.request("GET", key)
    check(status, headers, body, (200,), f"GET {key}")
    if hashlib.md5(body).hexdigest() != w.objects[key][1]:
        raise Failed(f"GET {key}: body differs ({len(body)} bytes)")


def op_range_get(c: Client, w: World, rng: random.Random) -> None:
    key = rng.choice(w.keys)
    data = w.objects[key][0]
    first = rng.randrange(len(data))
    last = min(len(data) - 1, first + rng.randrange(1, 256 * 1024))
    status, headers, body = c.request("GET", key, headers={"Range": f"bytes={first}-{last}"})
    check(status, headers, body, (206,), f"GET {key} range")
    if body != data[first : last + 1]:
        raise Failed(f"GET {key} bytes={first}-{last}: wrong bytes")


def op_put(c: Client, w: World, rng: random.Random) -> None:
    key = f"put/{rng.randrange(8)}/{rng.randrange(400):04}.bin"
    data = rng.randbytes(rng.choice([512, 8 * 1024, 64 * 1024, 256 * 1024]))
    status, headers, body = c.request("PUT", key, body=data)
    check(status, headers, body, (200,), f"PUT {key}")
    if headers.get("etag", "").strip('"') != hashlib.md5(data).hexdigest():
        raise Failed(f"PUT {key}: ETag {headers.get('etag')}")


def op_list(c: Client, w: World, rng: random.Random) -> None:
    prefix = rng.choice(["", "data/", "put/", f"data/{rng.randrange(10)}/"])
    query = {"prefix": prefix, "delimiter": "/", "max-keys": str(rng.choice([10, 100, 1000]))}
    for _ in range(3):
        status, headers, body = c.request("GET", "", query=query)
        check(status, headers, body, (200,), f"list {prefix}")
        if b"<ListBucketResult" not in body:
            raise Failed(f"list {prefix}: not a listing")
        if b"<IsTruncated>true</IsTruncated>" not in body:
            return
        start = body.find(b"<NextMarker>")
        end = body.find(b"</NextMarker>")
        if start < 0 or end < 0:
            raise Failed(f"list {prefix}: truncated without NextMarker")
        query["marker"] = body[start + 12 : end].decode()


def tag(body: bytes, name: str) -> str:
    start = body.find(f"<{name}>".encode())
    end = body.find(f"</{name}>".encode())
    if start < 0 or end < 0:
        raise Failed(f"no <{name}> in {body[:200]!r}")
    return body[start + len(name) + 2 : end].decode()


def op_multipart(c: Client, w: World, rng: random.Random) -> None:
    key = f"mp/{rng.randrange(20)}.bin"
    status, headers, body = c.request("POST", key, query={"uploads": ""})
    check(status, headers, body, (200,), f"initiate {key}")
    upload_id = tag(body, "UploadId")
    parts = [rng.randbytes(PART), rng.randbytes(rng.randrange(1, 200 * 1024))]
    etags = []
    try:
        for number, data in enumerate(parts, 1):
            status, headers, body = c.request(
                "PUT", key, query={"partNumber": str(number), "uploadId": upload_id}, body=data
            )
            check(status, headers, body, (200,), f"part {number} of {key}")
            etags.append(headers.get("etag", ""))
    except Refused:
        c.request("DELETE", key, query={"uploadId": upload_id})
        raise
    if rng.random() < 0.25:
        status, headers, body = c.request("DELETE", key, query={"uploadId": upload_id})
        check(status, headers, body, (204,), f"abort {key}")
        return
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)
    ) + "</CompleteMultipartUpload>"
    status, headers, body = c.request("POST", key, query={"uploadId": upload_id}, body=xml.encode())
    check(status, headers, body, (200,), f"complete {key}")
    if b"<CompleteMultipartUploadResult" not in body:
        raise Failed(f"complete {key}: {body[:200]!r}")


def op_convert(c: Client, w: World, rng: random.Random) -> None:
    name, rule = rng.choice(CONVERSIONS)
    status, headers, body = c.request("GET", f"img/{name}", raw_query=rule)
    check(status, headers, body, (200,), f"GET {name}?{rule}")
    if rule == "imageInfo":
        json.loads(body)
    elif bl.image_kind(body[:16]) == "unknown":
        raise Failed(f"GET {name}?{rule}: not an image")


def op_pic_operations(c: Client, w: World, rng: random.Random) -> None:
    n = rng.randrange(50)
    ops = {
        "is_pic_info": 1,
        "rules": [{"fileid": f"/picops/{n}-thumb.webp", "rule": "imageMogr2/thumbnail/320x/format/webp"}],
    }
    data = w.images["photo_rocket.jpg"]
    status, headers, body = c.request(
        "PUT", f"picops/{n}.jpg", body=data, headers={"Pic-Operations": json.dumps(ops)}
    )
    check(status, headers, body, (200,), f"Pic-Operations upload {n}")
    if b"<UploadResult" not in body:
        raise Failed(f"Pic-Operations upload {n}: {body[:200]!r}")


OPS = {
    "get": op_get,
    "range_get": op_range_get,
    "put": op_put,
    "list": op_list,
    "multipart": op_multipart,
    "convert": op_convert,
    "pic_operations": op_pic_operations,
}


def client_loop(port: int, world: World, stats: Stats, stop_at: float, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(port)
    names = [op for op, _ in MIX]
    weights = [weight for _, weight in MIX]
    while time.monotonic() < stop_at:
        op = rng.choices(names, weights)[0]
        began = time.monotonic()
        try:
            OPS[op](client, world, rng)
            stats.ok(op, time.monotonic() - began)
        except Refused:
            stats.slowdown(op)
            # As an SDK would: back off a little before the next request.
            time.sleep(rng.uniform(0.05, 0.3))
        except Failed as e:
            stats.error(op, str(e))
            client.close()
        except (OSError, http.client.HTTPException, ValueError) as e:
            stats.error(op, f"{type(e).__name__}: {e}")
            client.close()
    client.close()


@dataclass
class ProcSample:
    rss_mb: float
    hwm_mb: float
    fds: int
    threads: int


def proc_sample(pid: int) -> ProcSample:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].split() for line in status if ":" in line}
    return ProcSample(
        rss_mb=int(fields["VmRSS"][0]) / 1024,
        hwm_mb=int(fields["VmHWM"][0]) / 1024,
        fds=len(list(Path(f"/proc/{pid}/fd").iterdir())),
        threads=int(fields["Threads"][0]),
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--mogr", help="mogr release binary (default target/release/mogr)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    binary = bl.mogr_binary(args.mogr)
    with tempfile.TemporaryDirectory(prefix="mogr-soak-") as work:
        server = bl.MogrServer(binary, Path(work))
        try:
            run(server, args)
        finally:
            bl.stop(server.proc)


def run(server: bl.MogrServer, args) -> None:
    setup = Client(server.port)
    status, headers, body = setup.request("PUT", "")
    check(status, headers, body, (200,), "create bucket")
    bl.log("preloading objects and images")
    world = World(setup, args.seed)
    setup.close()
    pid = server.proc.pid
    time.sleep(2)
    start = proc_sample(pid)
    peak = {"rss": start.rss_mb, "fds": start.fds, "threads": start.threads}
    stats = Stats()
    stop_at = time.monotonic() + args.duration
    threads = [
        threading.Thread(target=client_loop, args=(server.port, world, stats, stop_at, args.seed * 1000 + i))
        for i in range(args.clients)
    ]
    bl.log(f"{args.clients} clients for {args.duration:.0f} s")
    began = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if server.proc.poll() is not None:
            bl.die(f"the server exited with {server.proc.returncode} under load")
        s = proc_sample(pid)
        peak = {"rss": max(peak["rss"], s.rss_mb), "fds": max(peak["fds"], s.fds),
                "threads": max(peak["threads"], s.threads)}
        done = sum(len(v) for v in stats.latencies.values())
        if int(time.monotonic() - began) % 60 == 0:
            bl.log(f"{time.monotonic() - began:.0f} s: {done} ok, {sum(stats.errors.values())} errors, "
                   f"RSS {s.rss_mb:.0f} MiB, fds {s.fds}, threads {s.threads}")
    elapsed = time.monotonic() - began
    # Idle for a moment so keep-alive connections close and queues drain.
    time.sleep(10)
    end = proc_sample(pid)
    print(report(stats, start, end, peak, elapsed, args))
    if stats.errors:
        bl.log("errors:\n  " + "\n  ".join(stats.samples))
        raise SystemExit(1)


def report(stats: Stats, start: ProcSample, end: ProcSample, peak: dict, elapsed: float, args) -> str:
    rows = []
    for op, _ in MIX:
        lat = stats.latencies.get(op, [])
        rows.append([
            op,
            str(len(lat)),
            str(stats.slowdowns.get(op, 0)),
            str(stats.errors.get(op, 0)),
            f"{percentile(lat, 0.5) * 1000:.1f}" if lat else "-",
            f"{percentile(lat, 0.99) * 1000:.1f}" if lat else "-",
        ])
    total = sum(len(v) for v in stats.latencies.values())
    text = [
        f"# mogr soak: {args.clients} clients, {elapsed:.0f} s",
        "",
        bl.machine_note(),
        "",
        f"{total} requests ok ({total / elapsed:.0f}/s), "
        f"{sum(stats.slowdowns.values())} SlowDown (allowed), {sum(stats.errors.values())} errors.",
        "",
        bl.markdown_table(["operation", "ok", "503 SlowDown", "errors", "p50 ms", "p99 ms"], rows),
        "",
        bl.markdown_table(
            ["server", "start", "peak", "end (10 s idle)"],
            [
                ["RSS MiB", f"{start.rss_mb:.0f}", f"{max(peak['rss'], end.hwm_mb):.0f}", f"{end.rss_mb:.0f}"],
                ["open fds", str(start.fds), str(peak["fds"]), str(end.fds)],
                ["threads", str(start.threads), str(peak["threads"]), str(end.threads)],
            ],
        ),
    ]
    out = "\n".join(text)
    bl.write_report("soak", out)
    return out


if __name__ == "__main__":
    main()
