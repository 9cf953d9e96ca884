#!/usr/bin/env python3
"""Object store benchmark: GET and PUT of 1 MiB objects, mogr vs nginx, one run.

Both servers run on loopback at the same time and serve the same 100 random 1 MiB files;
wrk drives each in turn (16 connections, 2 threads by default) with requests spread at random
over the 100 keys. nginx serves GET from disk (sendfile) and takes PUT through its dav module.
Reported: requests/s, MB/s, p50/p99 latency, server CPU per request, server peak RSS, and the
ratios mogr/nginx.

    python3 bench/store_bench.py                  # needs target/release/mogr
    python3 bench/store_bench.py --peers-only     # nginx only (checks the harness)
    python3 bench/store_bench.py --duration 20 --rounds 3 --connections 16

Writes bench/results/store-<date>.md. Standard library only; see bench/README.md.
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

OBJECT_SIZE = 1 << 20
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
    client_max_body_size 8m;
    client_body_buffer_size 2m;
    client_body_temp_path {work}/nginx-body;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location /put/ {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }}
    }}
}}
"""


@dataclass
class Row:
    """One server's measurement of one operation (medians over rounds)."""

    server: str
    op: str
    rps: float
    mbps: float
    p50: float
    p99: float
    cpu_ms_per_req: float
    errors: int


class Nginx:
    """A throw-away nginx with a temp conf: root = the object folder, PUT under /put/."""

    def __init__(self, work: Path, www: Path, workers: str):
        self.port = bl.free_port()
        (work / "nginx-body").mkdir(exist_ok=True)
        conf = work / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(
            workers=workers, user=user, work=work, port=self.port, www=www))
        self.proc = bl.start_server(["nginx", "-p", str(work), "-c", str(conf)], work / "nginx.log")
        bl.wait_port(self.port, self.proc)

    def target(self, method: str, key: str) -> str:
        """GET reads the served files; PUT writes under /put/."""
        return f"/put/{key}" if method == "PUT" else f"/{key}"


def make_objects(www: Path, count: int) -> list[str]:
    """count random (incompressible) 1 MiB files; returns their keys."""
    www.mkdir(parents=True, exist_ok=True)
    (www / "put").mkdir(exist_ok=True)
    keys = []
    for i in range(count):
        key = f"obj-{i:03d}.bin"
        (www / key).write_bytes(os.urandom(OBJECT_SIZE))
        keys.append(key)
    return keys


def check(port: int, method: str, target: str, body: bytes, who: str) -> None:
    """One request must succeed before wrk hammers the same URL shape."""
    r = bl.http_request(port, method, target, body=body)
    ok = r.status in ((200,) if method == "GET" else (200, 201, 204))
    if not ok or (method == "GET" and len(r.body) != OBJECT_SIZE):
        bl.die(f"{who} {method} {target[:80]} -> {r.status}, {len(r.body)} bytes: {r.body[:200]!r}")


def measure(servers, op, keys, args, work, body_file, hwm) -> tuple[list[Row], list[float]]:
    """wrk rounds of `op` against every server, interleaved (round 1 of each server, then
    round 2, ...) so a change in the machine's load touches every server alike; one Row per
    server (CPU and requests counted across all rounds, peak RSS into `hwm`), and each
    round's mogr/nginx req/s ratio."""
    cells = []
    for name, server in servers:
        prefix = "put/" if (op == "PUT" and name == "mogr") else ""
        targets = [server.target(op, prefix + k) for k in keys]
        lua = bl.wrk_paths_lua(op, targets, body_file if op == "PUT" else None)
        cells.append((name, server, lua, [], [0.0]))
    ratios = []
    for n in range(args.rounds):
        rps = {}
        for name, server, lua, results, cpu in cells:
            bl.log(f"{op} round {n + 1}/{args.rounds}: {name}, {args.duration} s, -c{args.connections}")
            bl.reset_hwm(server.proc.pid)
            cpu0 = bl.tree_cpu_seconds(server.proc.pid)
            res = bl.run_wrk(f"http://127.0.0.1:{server.port}", lua, work / f"{name}-{op}.lua",
                             args.connections, args.threads, args.duration)
            cpu[0] += bl.tree_cpu_seconds(server.proc.pid) - cpu0
            hwm[f"{name} {op}"] = max(hwm.get(f"{name} {op}", 0.0), bl.tree_hwm_mb(server.proc.pid))
            results.append(res)
            rps[name] = res.rps
        if rps.get("nginx") and "mogr" in rps:
            ratios.append(rps["mogr"] / rps["nginx"])
    rows = []
    for name, _, _, results, cpu in cells:
        requests = sum(r.ok for r in results)
        per_round_mb = [
            (r.bytes_read if op == "GET" else r.requests * OBJECT_SIZE) / r.seconds / 1e6
            for r in results
        ]
        rows.append(Row(
            server=name, op=op, rps=bl.median([r.rps for r in results]),
            mbps=bl.median(per_round_mb),
            p50=bl.median([r.p50_ms for r in results]), p99=bl.median([r.p99_ms for r in results]),
            cpu_ms_per_req=cpu[0] * 1000 / requests if requests else float("nan"),
            errors=sum(r.errors for r in results),
        ))
    return rows, ratios


def durable_ceiling(work: Path, body: bytes, clients: int, seconds: float) -> float:
    """Objects per second that `clients` threads can make durable on this disk with no server
    at all: write 1 MiB to a new file, fsync it, rename it into place, fsync the folder (what
    any store that acknowledges a PUT only once its bytes are on disk must do at least).
    nginx's dav PUT does none of the syncs, so on a disk slower than the page cache this
    ceiling, not nginx, bounds every durable PUT."""
    import threading

    folder = work / "ceiling"
    folder.mkdir(exist_ok=True)
    done = [0] * clients
    stop = time.monotonic() + seconds

    def writer(slot: int) -> None:
        n = 0
        while time.monotonic() < stop:
            tmp, final = folder / f".tmp-{slot}", folder / f"obj-{slot}-{n % 8}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, final)
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            n += 1
        done[slot] = n

    t0 = time.monotonic()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="wrk runs per server and op; medians (default 2)")
    p.add_argument("--objects", type=int, default=100, help="number of 1 MiB objects (default 100)")
    p.add_argument("--nginx-workers", default="auto", help="nginx worker_processes (default auto)")
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    p.add_argument("--peers-only", action="store_true", help="nginx only")
    args = p.parse_args()

    bl.ensure_packages({"wrk": "wrk", "nginx": "nginx-light"})
    mogr_bin = None if args.peers_only else bl.mogr_binary(args.mogr)
    rows: list[Row] = []
    hwm: dict[str, float] = {}
    ratios: dict[str, list[float]] = {}
    access = "–"
    with tempfile.TemporaryDirectory(prefix="mogr-store-") as tmp:
        work = Path(tmp)
        www = work / "www"
        bl.log(f"writing {args.objects} x 1 MiB objects")
        keys = make_objects(www, args.objects)
        body_file = work / "put-body.bin"
        body_file.write_bytes(os.urandom(OBJECT_SIZE))
        body = body_file.read_bytes()
        servers = []
        nginx = mogr = None
        try:
            nginx = Nginx(work, www, args.nginx_workers)
            check(nginx.port, "GET", nginx.target("GET", keys[0]), b"", "nginx")
            check(nginx.port, "PUT", nginx.target("PUT", keys[0]), body, "nginx")
            servers.append(("nginx", nginx))
            if mogr_bin:
                mogr = bl.MogrServer(mogr_bin, work)
                mogr.create_bucket("public-read-write")
                bl.log(f"uploading {len(keys)} objects to mogr")
                for key in keys:
                    mogr.put(key, (www / key).read_bytes())
                access = mogr.choose_access(mogr.path(keys[0]), mogr.path("put/" + keys[0]))
                bl.log(f"mogr access: {access}")
                check(mogr.port, "GET", mogr.target("GET", keys[0]), b"", "mogr")
                check(mogr.port, "PUT", mogr.target("PUT", "put/" + keys[0]), body, "mogr")
                servers.insert(0, ("mogr", mogr))
            for op in ("GET", "PUT"):
                op_rows, ratios[op] = measure(servers, op, keys, args, work, body_file, hwm)
                rows.extend(op_rows)
            bl.log(f"durable-write ceiling: {args.rounds} x {args.duration} s, {args.connections} threads")
            ceilings = [durable_ceiling(work, body, args.connections, args.duration)
                        for _ in range(args.rounds)]
            rows.append(Row(server="disk (fsync ceiling)", op="PUT", rps=bl.median(ceilings),
                            mbps=bl.median(ceilings) * OBJECT_SIZE / 1e6, p50=float("nan"),
                            p99=float("nan"), cpu_ms_per_req=float("nan"), errors=0))
        finally:
            bl.stop(mogr.proc if mogr else None)
            bl.stop(nginx.proc if nginx else None)

    text = report(rows, hwm, args, access, ratios)
    print(text)
    bl.log(f"written {bl.write_report('store', text)}")


def fmt(x: float | None, digits: int = 2) -> str:
    """A number, or an en dash where there is none."""
    return "–" if x is None or x != x else f"{x:.{digits}f}"


def report(rows: list[Row], hwm: dict[str, float], args, access: str,
           ratios: dict[str, list[float]]) -> str:
    """Markdown: per server, then ratios mogr/nginx."""
    header = (
        "# Object store benchmark: mogr vs nginx, 1 MiB objects\n\n"
        f"{bl.machine_note()}. wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
        f"{args.rounds} round(s) per cell (medians), the servers' rounds interleaved, keys spread at random over {args.objects} "
        f"objects; wrk shares the machine's cores with the server. mogr access: {access}. "
        "nginx: GET via sendfile, PUT via the dav module (temp file + rename, never synced); mogr syncs "
        "every object and its folder before it answers. Peak RSS: VmHWM "
        "reset before each round, highest kept (nginx: master + workers summed).\n"
    )
    table = bl.markdown_table(
        ["op", "server", "req/s", "MB/s", "p50 ms", "p99 ms", "server CPU ms/req",
         "peak RSS MiB", "errors"],
        [[r.op, r.server, f"{r.rps:.0f}", f"{r.mbps:.0f}", fmt(r.p50), fmt(r.p99),
          fmt(r.cpu_ms_per_req), fmt(hwm.get(f"{r.server} {r.op}"), 1), str(r.errors)]
         for r in rows],
    )
    parts = [header, table]
    by = {(r.server, r.op): r for r in rows}
    ratio_rows = []
    for op in ("GET", "PUT"):
        m, n = by.get(("mogr", op)), by.get(("nginx", op))
        if m and n:
            ratio_rows.append([
                op, bl.ratio(m.rps, n.rps), bl.ratio(m.mbps, n.mbps), bl.ratio(m.p50, n.p50),
                bl.ratio(m.p99, n.p99), bl.ratio(m.cpu_ms_per_req, n.cpu_ms_per_req),
                bl.ratio(hwm.get(f"mogr {op}"), hwm.get(f"nginx {op}")),
            ])
    ceiling = by.get(("disk (fsync ceiling)", "PUT"))
    if ceiling:
        parts.append(
            "\n\"disk (fsync ceiling)\": no server, no network, no hashing: "
            f"{args.connections} threads writing 1 MiB files with fsync + rename + folder fsync, "
            "the most any store that acknowledges a PUT only once it is on disk can do here. "
            + "; ".join(f"{name} PUT = {bl.ratio(by[(name, 'PUT')].rps, ceiling.rps)} of it"
                        for name in ("mogr", "nginx") if (name, "PUT") in by) + ".\n")
    if ratio_rows:
        parts += ["\n## Ratios mogr/nginx (throughput: above 1.00x is better; latency, CPU, RSS: below)\n",
                  bl.markdown_table(["op", "req/s", "MB/s", "p50", "p99", "CPU/req", "peak RSS"],
                                    ratio_rows)]
        for op, per in ratios.items():
            if per:
                parts.append(
                    f"\n{op} req/s mogr/nginx per round (the two run back to back): "
                    f"{', '.join(f'{x:.2f}x' for x in per)}; median {bl.median(per):.2f}x.")
        parts.append("")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    bl.log(f"done in {time.monotonic() - t0:.0f} s")
