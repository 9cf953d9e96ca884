#!/usr/bin/env python3
"""Variant cache benchmark: what a cached processed response costs, one run, one machine.

(1) A warm cached 512 px thumbnail of a 12 MP JPEG (`GET key?imageMogr2/thumbnail/512x`,
    served from the variant cache) against a plain GET of an object of exactly the same size,
    both from mogr, plus nginx serving that same file from disk (sendfile) for reference. wrk,
    16 connections by default; requests/s, latency, server CPU per request, peak RSS. The
    cells' rounds interleave (one round of each, then the next), and each round's cached/plain
    ratio is reported beside the medians' ratio.
(2) Cold (first request: decode + encode, then stored) and warm (from the cache) latency of
    the same 12 MP JPEG to HEIF and to WebP, one request at a time; medians.

    python3 bench/cache_bench.py                     # needs target/release/mogr
    python3 bench/cache_bench.py --duration 20 --rounds 3 --cold-runs 5

Run it under `nice -n 10` on a shared machine. Writes bench/results/cache-<date>.md. Standard
library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

PHOTO = "photo_dog_4032x3024_exif-orient6.jpg"
THUMB_RULE = "imageMogr2/thumbnail/512x"
NGINX_CONF = """\
worker_processes {workers};
daemon off;
{user}
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
"""


@dataclass
class Row:
    """One wrk cell (medians over rounds)."""

    what: str
    rps: float
    p50: float
    p99: float
    cpu_ms_per_req: float
    hwm_mb: float
    errors: int


class Nginx:
    """A throw-away nginx serving `www` from disk."""

    def __init__(self, work: Path, www: Path, workers: str):
        self.port = bl.free_port()
        conf = work / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(workers=workers, user=user, work=work, port=self.port, www=www))
        self.proc = bl.start_server(["nginx", "-p", str(work), "-c", str(conf)], work / "nginx.log")
        bl.wait_port(self.port, self.proc)


def wrk_cells(cells, args, work) -> tuple[list[Row], list[list[float]]]:
    """wrk rounds over `cells`, interleaved (round 1 of every cell, then round 2, ...) so a
    change in the machine's load touches every cell alike; one Row per cell, and each
    round's req/s per cell (for per-round ratios)."""
    state = {what: {"results": [], "cpu": 0.0, "hwm": 0.0} for what, *_ in cells}
    per_round: list[list[float]] = []
    for n in range(args.rounds):
        rps = []
        for what, proc, port, target in cells:
            bl.log(f"round {n + 1}/{args.rounds}: {what}, {args.duration} s, -c{args.connections}")
            lua = bl.wrk_paths_lua("GET", [target])
            bl.reset_hwm(proc.pid)
            cpu0 = bl.tree_cpu_seconds(proc.pid)
            res = bl.run_wrk(f"http://127.0.0.1:{port}", lua, work / "cell.lua", args.connections,
                             args.threads, args.duration)
            cell = state[what]
            cell["cpu"] += bl.tree_cpu_seconds(proc.pid) - cpu0
            cell["hwm"] = max(cell["hwm"], bl.tree_hwm_mb(proc.pid))
            cell["results"].append(res)
            rps.append(res.rps)
        per_round.append(rps)
    rows = []
    for what, *_ in cells:
        results, cpu = state[what]["results"], state[what]["cpu"]
        ok = sum(r.ok for r in results)
        rows.append(Row(
            what=what, rps=bl.median([r.rps for r in results]),
            p50=bl.median([r.p50_ms for r in results]), p99=bl.median([r.p99_ms for r in results]),
            cpu_ms_per_req=cpu * 1000 / ok if ok else float("nan"), hwm_mb=state[what]["hwm"],
            errors=sum(r.errors for r in results),
        ))
    return rows, per_round


def timed_get(port: int, target: str, expect_cache: str) -> float:
    """One GET; its wall time in ms. The response must be a 200 with the expected cache outcome."""
    t = time.perf_counter()
    r = bl.http_request(port, "GET", target)
    ms = (time.perf_counter() - t) * 1000
    if r.status != 200 or r.headers.get("x-mogr-cache") != expect_cache:
        bl.die(f"GET {target[:90]} -> {r.status}, x-mogr-cache {r.headers.get('x-mogr-cache')} "
               f"(expected {expect_cache}): {r.body[:200]!r}")
    return ms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="wrk runs per cell; medians (default 2)")
    p.add_argument("--cold-runs", type=int, default=3, help="cold requests per format (default 3)")
    p.add_argument("--warm-runs", type=int, default=20, help="warm requests per format (default 20)")
    p.add_argument("--nginx-workers", default="auto", help="nginx worker_processes (default auto)")
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    args = p.parse_args()

    bl.ensure_packages({"wrk": "wrk", "nginx": "nginx-light"})
    mogr_bin = bl.mogr_binary(args.mogr)
    photo = bl.corpus_file(PHOTO).read_bytes()
    rows: list[Row] = []
    latency: dict[str, tuple[float, float]] = {}
    per_round: list[list[float]] = []
    with tempfile.TemporaryDirectory(prefix="mogr-cache-") as tmp:
        work = Path(tmp)
        www = work / "www"
        www.mkdir()
        mogr = nginx = None
        try:
            mogr = bl.MogrServer(mogr_bin, work)
            mogr.create_bucket("public-read")
            mogr.put("photo.jpg", photo)
            access = mogr.choose_access(mogr.path("photo.jpg"))
            bl.log(f"mogr access: {access}")
            thumb = mogr.target("GET", "photo.jpg", THUMB_RULE)
            first = bl.http_request(mogr.port, "GET", thumb)
            if first.status != 200 or first.headers.get("x-mogr-cache") != "miss":
                mogr.fail(f"first thumbnail: {first.status} {first.headers}")
            size = len(first.body)
            plain = os.urandom(size)
            mogr.put("plain.bin", plain)
            (www / "plain.bin").write_bytes(plain)
            timed_get(mogr.port, thumb, "hit")
            nginx = Nginx(work, www, args.nginx_workers)

            # (1) warm cached variant vs plain GET of the same size
            cells = [
                (f"mogr cached 512 px variant ({size} B)", mogr.proc, mogr.port, thumb),
                (f"mogr plain GET, same size ({size} B)", mogr.proc, mogr.port,
                 mogr.target("GET", "plain.bin")),
                ("nginx plain GET, same file", nginx.proc, nginx.port, "/plain.bin"),
            ]
            cell_rows, per_round = wrk_cells(cells, args, work)
            rows.extend(cell_rows)

            # (2) cold and warm latency, 12 MP JPEG to HEIF and WebP
            for fmt in ("heif", "webp"):
                rule = f"imageMogr2/format/{fmt}"
                cold = []
                for i in range(args.cold_runs):
                    key = f"cold-{fmt}-{i}.jpg"
                    mogr.put(key, photo)
                    bl.log(f"cold {fmt} {i + 1}/{args.cold_runs}")
                    cold.append(timed_get(mogr.port, mogr.target("GET", key, rule), "miss"))
                target = mogr.target("GET", f"cold-{fmt}-0.jpg", rule)
                warm = [timed_get(mogr.port, target, "hit") for _ in range(args.warm_runs)]
                latency[fmt] = (bl.median(cold), bl.median(warm))
        finally:
            bl.stop(mogr.proc if mogr else None)
            bl.stop(nginx.proc if nginx else None)

    text = report(rows, latency, args, per_round)
    print(text)
    bl.log(f"written {bl.write_report('cache', text)}")


def report(rows: list[Row], latency: dict[str, tuple[float, float]], args,
           per_round: list[list[float]]) -> str:
    parts = [
        "# Variant cache benchmark\n",
        f"{bl.machine_note()}. Source: {PHOTO} (12 MP). wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s, {args.rounds} round(s) per cell (medians), the cells' rounds interleaved; "
        "wrk shares the cores with the server. Peak RSS: VmHWM reset before each round.\n",
        "## (1) Warm cached variant vs plain GET of the same size\n",
        bl.markdown_table(
            ["request", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "peak RSS MiB", "errors"],
            [[r.what, f"{r.rps:.0f}", f"{r.p50:.2f}", f"{r.p99:.2f}", f"{r.cpu_ms_per_req:.3f}",
              f"{r.hwm_mb:.1f}", str(r.errors)] for r in rows]),
    ]
    if len(rows) >= 3:
        cached, plain, nginx = rows[0], rows[1], rows[2]
        parts.append(
            f"\ncached variant / mogr plain GET: req/s {bl.ratio(cached.rps, plain.rps)} (target >= 0.90x), "
            f"CPU/req {bl.ratio(cached.cpu_ms_per_req, plain.cpu_ms_per_req)}; "
            f"mogr plain GET / nginx: req/s {bl.ratio(plain.rps, nginx.rps)}.\n")
        rounds = [r[0] / r[1] for r in per_round if len(r) >= 2 and r[1]]
        if rounds:
            parts.append(
                f"Per round (the two cells run back to back): cached / plain req/s "
                f"{', '.join(f'{x:.2f}x' for x in rounds)}; median {bl.median(rounds):.2f}x.\n")
    parts += [
        f"## (2) 12 MP JPEG, cold (computed, median of {args.cold_runs}) and warm (cached, median of "
        f"{args.warm_runs}) latency, one request at a time\n",
        bl.markdown_table(
            ["rule", "cold ms", "warm ms", "cold/warm"],
            [[f"imageMogr2/format/{fmt}", f"{c:.0f}", f"{w:.2f}", f"{c / w:.0f}x" if w else "–"]
             for fmt, (c, w) in latency.items()]),
    ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    bl.log(f"done in {time.monotonic() - t0:.0f} s")
