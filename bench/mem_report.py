#!/usr/bin/env python3
"""Peak and idle resident memory of `mogr serve` (2 image workers, default limits) for
16 concurrent 12 MP conversions and for the hostile inputs: a 16-bit RGBA PNG of 121 MP,
a 15800x15800 16-bit PNG, a 300-frame 912x912 GIF to WebP, and all of them overlapping.

Give several binaries to compare them in one run (before/after a change):

    nice -n 10 python3 bench/mem_report.py --mogr main=/tmp/mogr-main --mogr new=target/release/mogr

The hostile inputs are generated (never committed) by
`cargo run --release -p mogr-image --example hostile_inputs -- <folder>`; --inputs names the
folder (default bench/results/hostile). Peak is VmHWM reset before each case (clear_refs);
idle is VmRSS 5 s after the last answer. A 503 SlowDown is retried after its Retry-After, as
the COS SDKs do (up to 60 times), so every job of a case runs; the answers column gives the
final statuses and how many 503s were retried. `--env NAME=VALUE` sets an environment
variable for every server (for example `MIMALLOC_PURGE_DELAY=0` to compare allocator
settings). Output: a markdown table on stdout and in bench/results/.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from benchlib import (
    BENCH_DIR,
    BUCKET,
    SECRET_ID,
    SECRET_KEY,
    corpus_file,
    cos_presigned_query,
    die,
    free_port,
    http_request,
    log,
    machine_note,
    markdown_table,
    reset_hwm,
    signed_request,
    start_server,
    stop,
    vm_hwm_kb,
    wait_port,
    write_report,
)

PHOTO = "photo_dog_4032x3024_exif-orient6.jpg"  # 12.2 MP
IDLE_WAIT_S = 5.0
MAX_RETRIES = 60
HOSTILE = [
    ("16-bit RGBA PNG 11000x11000 (121 MP) -> jpg", "rgba16_11000x11000.png", "imageMogr2/format/jpg"),
    ("16-bit RGB PNG 15800x15800 -> jpg", "rgb16_15800x15800.png", "imageMogr2/format/jpg"),
    ("GIF 300 frames 912x912 -> webp", "anim_912x912_300f.gif", "imageMogr2/format/webp"),
]


def vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """`mogr serve` with two image workers and otherwise default settings."""

    def __init__(self, binary: Path, work: Path, env: dict[str, str]):
        self.port = free_port()
        config = work / "mogr.toml"
        # No time limit: the debug builds this may measure are slow, and the point is memory.
        # No variant cache: a repeated job would be served from disk, not computed.
        config.write_text("image_workers = 2\n[limits]\nmax_processing_secs = 0\n"
                          "[cache]\nmax_bytes = 0\n")
        self.log_path = work / "mogr.log"
        self.proc = start_server(
            [str(binary), "serve", "--config", str(config), "--listen", f"127.0.0.1:{self.port}",
             "--data", str(work / "data"), "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY],
            self.log_path,
            env={**os.environ, **env},
        )
        wait_port(self.port, self.proc)
        r = signed_request(self.port, "PUT", f"/{BUCKET}/")
        if r.status not in (200, 409):
            die(f"PUT bucket answered {r.status}")

    def put(self, key: str, body: bytes) -> None:
        r = signed_request(self.port, "PUT", f"/{BUCKET}/{urllib.parse.quote(key)}", body=body)
        if r.status != 200:
            die(f"PUT {key} answered {r.status}: {r.body[:200]!r}")

    def get(self, key: str, rule: str) -> tuple[int, int]:
        """The final status of a GET with `rule`, and the 503s retried before it."""
        path = f"/{BUCKET}/{urllib.parse.quote(key)}"
        # A presigned URL with the rule appended unsigned, as the CI docs show.
        query = cos_presigned_query("GET", path, lifetime=3600)
        for retries in range(MAX_RETRIES + 1):
            r = http_request(self.port, "GET", f"{path}?{query}&{rule}")
            if r.status != 503 or retries == MAX_RETRIES:
                return r.status, retries
            time.sleep(float(r.headers.get("retry-after", "1")))
        return 503, MAX_RETRIES


def distinct(rule: str, i: int) -> str:
    """`rule` with a quality of its own, so concurrent jobs are not merged into one
    computation (identical requests in flight share one result)."""
    return f"{rule}/quality/{90 - i}"


def case(server: Server, jobs: list[tuple[str, str]]) -> dict:
    """Runs `jobs` (key, rule) all at once; peak RSS during them, idle RSS after."""
    pid = server.proc.pid
    reset_hwm(pid)
    statuses: list[int] = []
    retried = [0]
    lock = threading.Lock()

    def one(key: str, rule: str) -> None:
        status, retries = server.get(key, rule)
        with lock:
            statuses.append(status)
            retried[0] += retries

    threads = [threading.Thread(target=one, args=job) for job in jobs]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    peak = vm_hwm_kb(pid)
    time.sleep(IDLE_WAIT_S)
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    return {
        "peak_mb": peak / 1024,
        "idle_mb": vm_rss_kb(pid) / 1024,
        "statuses": " ".join(f"{n}x{s}" for s, n in counts.items())
        + (f" ({retried[0]} 503 retried)" if retried[0] else ""),
        "seconds": elapsed,
    }


def measure(binary: Path, inputs: Path, env: dict[str, str]) -> list[tuple[str, dict]]:
    with tempfile.TemporaryDirectory(prefix="mogr-mem-") as tmp:
        server = Server(binary, Path(tmp), env)
        try:
            time.sleep(1)
            start_rss = vm_rss_kb(server.proc.pid) / 1024
            server.put("photo.jpg", corpus_file(PHOTO).read_bytes())
            for _, name, _ in HOSTILE:
                server.put(name, (inputs / name).read_bytes())
            rows = [("server started, idle", {"peak_mb": start_rss, "idle_mb": start_rss,
                                              "statuses": "", "seconds": 0.0})]
            label = "16 concurrent 12 MP JPEG -> webp"
            log(f"{binary}: {label}")
            rows.append((label, case(server, [("photo.jpg", distinct("imageMogr2/format/webp", i))
                                              for i in range(16)])))
            for label, name, rule in HOSTILE:
                log(f"{binary}: {label}")
                rows.append((label, case(server, [(name, rule)])))
            label = "overlapping: 2x each hostile case + 4 photos"
            log(f"{binary}: {label}")
            jobs = [(n, distinct(r, i)) for i in range(2) for _, n, r in HOSTILE]
            jobs += [("photo.jpg", distinct("imageMogr2/format/webp", i)) for i in range(4)]
            rows.append((label, case(server, jobs)))
            return rows
        finally:
            stop(server.proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mogr", action="append", required=True, metavar="NAME=PATH",
                        help="a mogr binary to measure, named for the table (repeatable)")
    parser.add_argument("--inputs", type=Path, default=BENCH_DIR / "results" / "hostile",
                        help="folder of the generated hostile inputs")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for every server (repeatable)")
    args = parser.parse_args()
    env = dict(e.partition("=")[::2] for e in args.env)
    for _, name, _ in HOSTILE:
        if not (args.inputs / name).is_file():
            die(f"{args.inputs / name} is missing: generate the inputs with\n"
                f"  cargo run --release -p mogr-image --example hostile_inputs -- {args.inputs}")
    results = []
    for spec in args.mogr:
        name, _, path = spec.partition("=")
        results.append((name, measure(Path(path), args.inputs, env)))
    header = ["case"]
    for name, _ in results:
        header += [f"{name} peak MiB", f"{name} idle MiB", f"{name} answers"]
    rows = []
    for i, (label, _) in enumerate(results[0][1]):
        row = [label]
        for _, measured in results:
            m = measured[i][1]
            row += [f"{m['peak_mb']:.0f}", f"{m['idle_mb']:.0f}", m["statuses"]]
        rows.append(row)
    text = "\n".join([
        "# mogr memory report",
        "",
        machine_note(),
        "",
        "`mogr serve` with image_workers = 2 and default limits; peak = VmHWM during the case "
        f"(reset before it), idle = VmRSS {IDLE_WAIT_S:.0f} s after the last answer; 503s "
        "retried after Retry-After." + (f" Environment: {' '.join(args.env)}." if args.env else ""),
        "",
        markdown_table(header, rows),
        "",
    ])
    print(text)
    log(f"report: {write_report('mem', text)}")


if __name__ == "__main__":
    main()
