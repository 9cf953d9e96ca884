#!/usr/bin/env python3
"""Start-up time of `mogr serve` on existing data folders: seconds from starting the process
to its first answers (HEAD Bucket, then a one-key listing, which needs the bucket's key
index), a few runs each, medians.

    python3 bench/startup_time.py --mogr target/release/mogr \\
        --data 150k=/path/to/d150k --data 1M=/path/to/d1m [--runs 3] [--cold]

The folders hold bucket `bench-1250000000` (make them with bench/store_scale.rs, see
docs/local-store.md). `--cold` drops the folders' index and journal files from the page cache
before each run (posix_fadvise DONTNEED on those files only, so other programs' cache is
left alone); without it the files are warm from the previous run. The server is stopped with
SIGTERM after each run, as an operator would, so the next start finds a sealed index.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import benchlib as bl


def evict(folder: Path) -> int:
    """Drops the index and journal files of `folder` from the page cache; their bytes."""
    total = 0
    for sub in ["journal", *(f"buckets/{b.name}/index" for b in (folder / "buckets").iterdir())]:
        for path in (folder / sub).rglob("*"):
            if not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                total += path.stat().st_size
            finally:
                os.close(fd)
    return total


def head_bucket(port: int) -> int:
    return bl.signed_request(port, "HEAD", f"/{bl.BUCKET}/").status


def list_one(port: int) -> int:
    """GET Bucket with max-keys=1, the query signed."""
    host = f"127.0.0.1:{port}"
    auth = bl.cos_authorization("GET", f"/{bl.BUCKET}/", {"max-keys": "1"}, {"host": host})
    return bl.http_request(port, "GET", f"/{bl.BUCKET}/?max-keys=1",
                           headers={"Host": host, "Authorization": auth}).status


def until(port: int, proc, request, began: float, timeout: float = 900) -> float:
    """Seconds since `began` when `request(port)` first answers 200."""
    status = None
    while time.monotonic() - began < timeout:
        if proc.poll() is not None:
            bl.die("the server exited during start-up")
        try:
            status = request(port)
            if status == 200:
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.01)
    bl.die(f"no 200 from {request.__name__} within {timeout} s (last status {status})")
    return 0.0


def one_start(binary: Path, data: Path, cold: bool, log_dir: Path) -> dict:
    evicted = evict(data) if cold else 0
    port = bl.free_port()
    began = time.monotonic()
    proc = bl.start_server(
        [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data),
         "--secret-id", bl.SECRET_ID, "--secret-key", bl.SECRET_KEY],
        log_dir / "mogr.log",
    )
    try:
        head = until(port, proc, head_bucket, began)
        listing = until(port, proc, list_one, began)
    finally:
        bl.stop(proc)
    return {"head": head, "list": listing, "evicted_mb": evicted / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mogr", required=True, help="the mogr binary")
    parser.add_argument("--data", action="append", required=True, metavar="NAME=FOLDER",
                        help="a data folder, named for the table (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true",
                        help="drop the index files from the page cache before each run")
    args = parser.parse_args()
    binary = bl.mogr_binary(args.mogr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mogr-startup-") as tmp:
        for spec in args.data:
            name, _, folder = spec.partition("=")
            runs = []
            for i in range(args.runs):
                r = one_start(binary, Path(folder), args.cold, Path(tmp))
                bl.log(f"{name} run {i + 1}: HEAD {r['head']:.2f} s, listing {r['list']:.2f} s"
                       f" (evicted {r['evicted_mb']:.0f} MiB)")
                runs.append(r)
            rows.append([
                name,
                f"{bl.median([r['head'] for r in runs]):.2f}",
                f"{bl.median([r['list'] for r in runs]):.2f}",
                " / ".join(f"{r['list']:.2f}" for r in runs),
                f"{runs[0]['evicted_mb']:.0f}" if args.cold else "warm",
            ])
    text = "\n".join([
        "# mogr start-up time",
        "",
        bl.machine_note(),
        "",
        f"Seconds from starting `mogr serve` to its first 200 answers; {args.runs} runs, medians."
        + (" Index and journal files dropped from the page cache before each run." if args.cold
           else " Page cache warm."),
        "",
        bl.markdown_table(
            ["data", "HEAD Bucket (s)", "first listing (s)", "runs (listing, s)", "index MiB evicted"],
            rows),
        "",
    ])
    print(text)
    bl.log(f"report: {bl.write_report('startup', text)}")


if __name__ == "__main__":
    main()
