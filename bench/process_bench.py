#!/usr/bin/env python3
"""Download-mode processing benchmark: mogr vs thumbor, one run.

mogr serves `GET /<bucket>/<key>?imageMogr2/...` from its store; thumbor serves the nearest
equivalent `/unsafe/filters:format(...)/<file>` through its file loader, with no storage and
no result storage (nothing cached, like mogr). wrk drives each at 4 and 16 connections.

    python3 bench/process_bench.py                # needs target/release/mogr
    python3 bench/process_bench.py --peers-only   # thumbor only (checks the harness)
    python3 bench/process_bench.py --duration 15 --concurrency 4,16 --only webp

thumbor is installed on first use into bench/.venv-thumbor (pip, PyPI). Writes
bench/results/process-<date>.md. Standard library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

VENV = bl.BENCH_DIR / ".venv-thumbor"
# Above this share of failed requests a cell's latency says more about rejections than work.
MAX_ERROR_SHARE = 0.01
THUMBOR_VERSION = "7.8.0"


@dataclass
class Job:
    """One processing request, as each server spells it."""

    name: str
    source: str
    rule: str
    thumbor_filters: str
    kind: str


JOBS = [
    Job("JPEG 2560x1600 → WebP", "photo_path_2560x1600.jpg", "imageMogr2/format/webp",
        "filters:format(webp)", "webp"),
    Job("JPEG 2560x1600 → PNG", "photo_path_2560x1600.jpg", "imageMogr2/format/png",
        "filters:format(png)", "png"),
    # thumbor has no frame dropping and, with no operation, returns the GIF's own bytes (output
    # bytes = source bytes): the next job makes both sides decode, resize and re-encode frames.
    Job("GIF 42 frames → cgif/20", "animated_42frames.gif", "imageMogr2/format/gif/cgif/20",
        "filters:format(gif)", "gif"),
    Job("GIF 42 frames → 200 px wide", "animated_42frames.gif",
        "imageMogr2/thumbnail/200x/format/gif", "200x0/filters:format(gif)", "gif"),
]


@dataclass
class Cell:
    """One server, job and concurrency."""

    job: str
    server: str
    connections: int
    seconds: int
    rps: float
    p50: float
    p99: float
    cpu_ms_per_req: float
    rss_mb: float
    errors: str
    error_share: float
    out_bytes: int


def ensure_thumbor() -> Path:
    """bench/.venv-thumbor/bin/thumbor, created with pip on first use."""
    thumbor = VENV / "bin" / "thumbor"
    if thumbor.is_file():
        return thumbor
    bl.log(f"installing thumbor {THUMBOR_VERSION} into {VENV} (pip)")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    r = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", f"thumbor=={THUMBOR_VERSION}"])
    if r.returncode != 0 or not thumbor.is_file():
        bl.die("pip could not install thumbor; see the output above")
    return thumbor


class Thumbor:
    """A throw-away thumbor: file loader on the corpus, unsafe URLs, no storage; results are
    cached only with `result_storage`."""

    def __init__(self, binary: Path, work: Path, processes: int, quality: int,
                 result_storage: bool = False, name: str = "thumbor"):
        """`result_storage`: keep every result in thumbor's file result storage (unsafe URLs
        included) and serve repeats from it, as mogr's variant cache does."""
        self.port = bl.free_port()
        conf = work / f"{name}.conf"
        results = (
            "RESULT_STORAGE = 'thumbor.result_storages.file_storage'\n"
            f"RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = {str(work / (name + '-results'))!r}\n"
            "RESULT_STORAGE_STORES_UNSAFE = True\n"
            "RESULT_STORAGE_EXPIRATION_SECONDS = 0\n"
        ) if result_storage else "RESULT_STORAGE = None\n"
        conf.write_text(
            "LOADER = 'thumbor.loaders.file_loader'\n"
            f"FILE_LOADER_ROOT_PATH = {str(bl.CORPUS)!r}\n"
            "STORAGE = 'thumbor.storages.no_storage'\n"
            + results +
            "ALLOW_UNSAFE_URL = True\n"
            f"QUALITY = {quality}\n"
            f"WEBP_QUALITY = {quality}\n"
            "USE_GIFSICLE_ENGINE = True\n"
            "ALLOW_ANIMATED_GIFS = True\n"
        )
        self.proc = bl.start_server(
            [str(binary), "-p", str(self.port), "-i", "127.0.0.1", "-c", str(conf),
             "--processes", str(processes), "-l", "error"],
            work / f"{name}.log",
        )
        bl.wait_port(self.port, self.proc, timeout=60)

    def target(self, job: Job) -> str:
        """The unsafe URL of the nearest equivalent request."""
        return f"/unsafe/{job.thumbor_filters}/{job.source}"


MAGIC = {"webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",
         "png": lambda b: b.startswith(b"\x89PNG"), "gif": lambda b: b.startswith(b"GIF8")}


def probe(port: int, target: str, kind: str) -> tuple[int, float, str | None]:
    """One request that must succeed in the right format: (bytes, seconds, error or None)."""
    start = time.perf_counter()
    r = bl.http_request(port, "GET", target)
    seconds = time.perf_counter() - start
    if r.status != 200 or not MAGIC[kind](r.body):
        return 0, seconds, f"{r.status} {r.headers.get('content-type')}: {r.body[:160]!r}"
    return len(r.body), seconds, None


def run_seconds(args, probe_seconds: float, connections: int) -> int:
    """Long enough that each client completes a few requests, even on a slow server."""
    cores = os.cpu_count() or 1
    wanted = 3 * probe_seconds * connections / min(cores, connections)
    return min(args.max_duration, max(args.duration, math.ceil(wanted)))


def measure(server_name, server, job, target, connections, args, work, out_bytes, seconds) -> Cell:
    """One wrk run (`target`: one path, or a list spread at random); server peak RSS and CPU
    over exactly that run."""
    bl.reset_hwm(server.proc.pid)
    cpu0 = bl.tree_cpu_seconds(server.proc.pid)
    paths = target if isinstance(target, list) else [target]
    res = bl.run_wrk(f"http://127.0.0.1:{server.port}",
                     bl.wrk_paths_lua("GET", paths, count_statuses=True),
                     work / "job.lua", connections, args.threads, seconds, timeout=max(30, 2 * seconds))
    cpu = bl.tree_cpu_seconds(server.proc.pid) - cpu0
    return Cell(job.name, server_name, connections, seconds, res.rps, res.p50_ms, res.p99_ms,
                cpu * 1000 / res.ok if res.ok else float("nan"),
                bl.tree_hwm_mb(server.proc.pid), res.error_text(), res.error_share, out_bytes)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", default="4,16", help="wrk connection counts (default 4,16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run (default 15)")
    p.add_argument("--max-duration", type=int, default=90,
                   help="cap on the longer runs given to slow servers (default 90 s)")
    p.add_argument("--only", help="comma list of words matched against job names (webp,png,gif)")
    p.add_argument("--thumbor-processes", type=int, default=2,
                   help="thumbor worker processes (default 2 = cores; it is single-threaded)")
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    p.add_argument("--peers-only", action="store_true", help="thumbor only")
    args = p.parse_args()

    bl.ensure_packages({"wrk": "wrk", "gifsicle": "gifsicle", "identify": "imagemagick"})
    mogr_bin = None if args.peers_only else bl.mogr_binary(args.mogr)
    thumbor_bin = ensure_thumbor()
    jobs = JOBS
    if args.only:
        words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        jobs = [j for j in JOBS if any(w in j.name.lower() for w in words)]
    levels = [int(c) for c in args.concurrency.split(",") if c]
    photo = bl.corpus_file(JOBS[0].source)
    # mogr's WebP inherits the source JPEG's quality; thumbor is told the same number.
    quality = bl.jpeg_quality(photo) or 75

    cells: list[Cell] = []
    failures: list[str] = []
    access = "–"
    with tempfile.TemporaryDirectory(prefix="mogr-process-") as tmp:
        work = Path(tmp)
        mogr = thumbor = None
        try:
            thumbor = Thumbor(thumbor_bin, work, args.thumbor_processes, quality)
            servers = [("thumbor", thumbor)]
            if mogr_bin:
                # thumbor keeps no results here, so mogr computes every response too.
                mogr = bl.MogrServer(mogr_bin, work, config=bl.NO_VARIANT_CACHE)
                mogr.create_bucket("public-read")
                for name in sorted({j.source for j in jobs}):
                    mogr.put(name, bl.corpus_file(name).read_bytes())
                access = mogr.choose_access(mogr.path(jobs[0].source))
                bl.log(f"mogr access: {access}")
                servers.insert(0, ("mogr", mogr))
            for job in jobs:
                targets, sizes, probe_s = {}, {}, {}
                for name, server in servers:
                    targets[name] = (server.target("GET", job.source, job.rule) if name == "mogr"
                                     else server.target(job))
                    sizes[name], probe_s[name], error = probe(server.port, targets[name], job.kind)
                    if error:
                        failures.append(f"- {job.name}: {name} `GET {targets[name][:90]}` -> {error}")
                        bl.log(f"{job.name}: {name} fails, skipped: {error}")
                for c in levels:
                    for name, server in servers:
                        if not sizes[name]:
                            continue
                        seconds = run_seconds(args, probe_s[name], c)
                        bl.log(f"{job.name}: {name} -c{c} {seconds} s")
                        cells.append(measure(name, server, job, targets[name], c, args, work,
                                             sizes[name], seconds))
        finally:
            bl.stop(mogr.proc if mogr else None)
            bl.stop(thumbor.proc if thumbor else None)

    text = report(cells, args, access, quality, failures)
    print(text)
    bl.log(f"written {bl.write_report('process', text)}")


def report(cells: list[Cell], args, access: str, quality: int, failures: list[str]) -> str:
    """Markdown: per server, then ratios mogr/thumbor."""
    header = (
        "# Download-mode processing: mogr vs thumbor\n\n"
        f"{bl.machine_note()}. wrk -t{args.threads} at -c {args.concurrency}, "
        f"{args.duration} s per run or longer for slow servers (column s); wrk shares the cores with the server. thumbor {THUMBOR_VERSION} "
        f"(Pillow engine, gifsicle for GIF, {args.thumbor_processes} processes, file loader, no "
        f"storage, no result storage, quality {quality}); mogr access: {access}. Peak RSS: VmHWM "
        "reset before each cell (thumbor: all processes summed). CPU ms/req: server user+sys "
        "over the run / successful requests. req/s counts successful (2xx/3xx) responses only; "
        "latency percentiles include rejected requests, so cells with errors get no latency "
        "ratio.\n"
    )
    table = bl.markdown_table(
        ["job", "server", "clients", "s", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
         "peak RSS MiB", "output bytes", "errors"],
        [[c.job, c.server, str(c.connections), str(c.seconds), f"{c.rps:.2f}", f"{c.p50:.0f}", f"{c.p99:.0f}",
          f"{c.cpu_ms_per_req:.0f}", f"{c.rss_mb:.1f}", f"{c.out_bytes:,d}", c.errors]
         for c in cells],
    )
    parts = [header, table]
    by = {(c.job, c.server, c.connections): c for c in cells}
    ratio_rows = []
    for c in cells:
        if c.server != "mogr":
            continue
        t = by.get((c.job, "thumbor", c.connections))
        if t:
            # Fast rejections (503 SlowDown) pull latency down: no latency ratio then.
            clean = max(c.error_share, t.error_share) <= MAX_ERROR_SHARE
            ratio_rows.append([c.job, str(c.connections), bl.ratio(c.rps, t.rps),
                               bl.ratio(c.p50, t.p50) if clean else "– (errors)",
                               bl.ratio(c.p99, t.p99) if clean else "– (errors)",
                               bl.ratio(c.cpu_ms_per_req, t.cpu_ms_per_req),
                               bl.ratio(c.rss_mb, t.rss_mb), bl.ratio(c.out_bytes, t.out_bytes)])
    if ratio_rows:
        parts += ["\n## Ratios mogr/thumbor (req/s: above 1.00x is better; the rest: below)\n",
                  bl.markdown_table(["job", "clients", "req/s", "p50", "p99", "CPU/req",
                                     "peak RSS", "output bytes"], ratio_rows)]
    if failures:
        parts += ["\n## Requests that failed (not measured)\n", "\n".join(failures)]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    if shutil.which("wrk") is None and not sys.argv[1:2] == ["-h"]:
        bl.log("wrk missing: it will be installed with apt-get")
    main()
