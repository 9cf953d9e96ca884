#!/usr/bin/env python3
"""Scale-out benchmark: one mogr node on local disk against two mogr nodes over a 3-node
Garage cluster, and what the engine itself costs, in one run.

    nice -n 10 python3 bench/scaleout_bench.py --mogr target/release/mogr
    python3 bench/scaleout_bench.py --duration 5 --rounds 3 --connections 16 --only get,put

The script starts everything itself and stops it at the end: a 3-node Garage cluster
(replication factor 3, `scripts/garage.sh` into a temp folder, S3 ports from
`--garage-base-port`), mogr `local` (local disk), mogr `A` over Garage node 0 and mogr `B`
over Garage node 1 (ports from `--mogr-base-port`), all with the variant cache off.

Three systems are driven by wrk with the same requests:
- `local`: the local-disk node;
- `garage`: nodes A and B, the clients split evenly between them (one wrk each, in parallel);
- `engine`: the same objects read and written straight through Garage's S3 API on nodes 0
  and 1 (SigV4 presigned URLs), the floor under anything built on the engine.
Operations: GET 1 MiB, PUT 1 MiB, and a download-mode conversion (1 MP JPEG -> WebP, widths
256-287 px at random so no two concurrent requests share a computation). Each at
`--connections` clients (throughput) and at 1 client (latency). Per cell: requests/s,
p50/p99, CPU per request of the mogr processes and of the Garage processes (utime+stime
deltas from /proc), the engine's S3 calls per request by kind and the time Garage spent in
them (Garage's own /metrics), and the peak RSS of every process.

Writes bench/results/scaleout-<date>.md. Standard library only (+ wrk); see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

OBJECT_SIZE = 1 << 20
GARAGE_SCRIPT = bl.REPO / "scripts" / "garage.sh"
# Conversion sources: a few keys of the same 1 MP JPEG, so requests spread over engine keys.
SOURCES = 8
WIDTHS = range(256, 288)
ENGINE_PREFIX = "enginebench/"
OPS = ("GET", "PUT", "CONV")
OP_NAMES = {"GET": "GET 1 MiB", "PUT": "PUT 1 MiB", "CONV": "convert 1 MP JPEG -> WebP"}
SYSTEMS = ("local", "garage", "engine")
SYSTEM_NAMES = {
    "local": "mogr, 1 node, local disk",
    "garage": "mogr, 2 nodes over Garage x3",
    "engine": "Garage S3 API direct",
}


# ---------------------------------------------------------------- the cluster


class Garage:
    """The 3-node cluster scripts/garage.sh starts into `dir`."""

    def __init__(self, work: Path, base_port: int):
        self.dir = work / "garage"
        self.base = base_port
        env = dict(os.environ, GARAGE_BASE_PORT=str(base_port))
        bl.log(f"starting Garage x3 (S3 on {base_port}, {base_port + 10}, {base_port + 20})")
        out = subprocess.run(["bash", str(GARAGE_SCRIPT), "start", str(self.dir)], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            self.stop()
            bl.die(f"scripts/garage.sh start failed:\n{out.stdout[-800:]}{out.stderr[-800:]}")
        self.env = dict(re.findall(r"^export (\w+)=(.*)$", (self.dir / "env").read_text(), re.M))
        self.pids = [int((self.dir / f"node{i}" / "pid").read_text()) for i in range(3)]
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until every node answers S3 reads with quorum: right after start-up, nodes 1
        and 2 answer 503 until they have met the others."""
        deadline = time.monotonic() + timeout
        for node in range(3):
            while True:
                target = self.presigned("GET", node, f"{ENGINE_PREFIX}ready-probe")
                try:
                    status = bl.http_request(self.s3_port(node), "GET", target).status
                except OSError:
                    status = 0
                if status == 404:
                    break
                if time.monotonic() > deadline:
                    self.stop()
                    bl.die(f"Garage node {node} not ready after {timeout:.0f} s (last {status})")
                time.sleep(0.5)

    def s3_port(self, node: int) -> int:
        """The S3 API port of node 0, 1 or 2."""
        return self.base + 10 * node

    def store_toml(self, node: int) -> str:
        """A mogr `[store]` table pointing at one node's S3 API."""
        e = self.env
        return (
            "[store]\nkind = \"s3\"\n"
            f"endpoint = \"http://127.0.0.1:{self.s3_port(node)}\"\n"
            f"region = \"{e['MOGR_S3_REGION']}\"\nbucket = \"{e['MOGR_S3_BUCKET']}\"\n"
            f"access_key = \"{e['MOGR_S3_ACCESS_KEY']}\"\nsecret_key = \"{e['MOGR_S3_SECRET_KEY']}\"\n"
        )

    def presigned(self, method: str, node: int, key: str) -> str:
        """A presigned request target for an engine key on one node."""
        e = self.env
        return bl.s3_presigned_target(
            method, f"127.0.0.1:{self.s3_port(node)}", e["MOGR_S3_BUCKET"], key,
            e["MOGR_S3_ACCESS_KEY"], e["MOGR_S3_SECRET_KEY"], e["MOGR_S3_REGION"])

    def metrics(self) -> dict[tuple[str, str], float]:
        """S3 calls and seconds spent in them, summed over the 3 nodes:
        {("count"|"seconds", endpoint): value}."""
        out: dict[tuple[str, str], float] = {}
        pattern = re.compile(
            r'^api_s3_request_(counter|duration_sum)\{api_endpoint="(\w+)"\} (\S+)$', re.M)
        for node in range(3):
            url = f"http://127.0.0.1:{self.base + 10 * node + 3}/metrics"
            try:
                with urllib.request.urlopen(url, timeout=10) as res:
                    text = res.read().decode()
            except OSError:
                continue
            for kind, endpoint, value in pattern.findall(text):
                k = ("count" if kind == "counter" else "seconds", endpoint)
                out[k] = out.get(k, 0.0) + float(value)
        return out

    def stop(self) -> None:
        """Stops the nodes and removes the folder."""
        subprocess.run(["bash", str(GARAGE_SCRIPT), "stop", str(self.dir)],
                       capture_output=True, text=True)


# ---------------------------------------------------------------- one measured cell


@dataclass
class Cell:
    """One system, operation and concurrency, over all rounds."""

    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    error_text: list[str] = field(default_factory=list)
    mogr_cpu: float = 0.0
    garage_cpu: float = 0.0
    engine: dict[tuple[str, str], float] = field(default_factory=dict)

    def per_request_ms(self, seconds: float) -> float:
        """Seconds over all rounds, as ms per successful request."""
        return seconds * 1000 / self.ok if self.ok else float("nan")


@dataclass
class Target:
    """Where one wrk process sends its requests."""

    port: int
    targets: list[str]


def run_parallel_wrk(
    method: str, split: list[Target], connections: int, args, work: Path, body_file: Path | None,
    label: str,
) -> list[bl.WrkResult]:
    """One wrk per target with the connections split between them, all at once."""
    share = [connections // len(split) + (1 if i < connections % len(split) else 0)
             for i in range(len(split))]
    procs = []
    for i, (target, conns) in enumerate(zip(split, share)):
        if conns == 0:
            continue
        script = work / f"{label}-{i}.lua"
        script.write_text(bl.wrk_paths_lua(method, target.targets, body_file,
                                           count_statuses=(method != "GET")))
        threads = max(1, min(args.threads // len(split), conns))
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{args.duration}s", "--timeout", "60s",
               "-s", str(script), f"http://127.0.0.1:{target.port}"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate()
        results.append(bl.parse_wrk(out, err))
    return results


# ---------------------------------------------------------------- set-up


def make_jpeg(mogr_bin: Path, work: Path) -> bytes:
    """A 1280x800 (1 MP) JPEG made by mogr itself from a corpus photo."""
    src = bl.corpus_file("photo_path_2560x1600.jpg")
    out = work / "source-1mp.jpg"
    res = subprocess.run([str(mogr_bin), "process", str(src), "imageMogr2/thumbnail/1280x",
                          "-o", str(out)], capture_output=True, text=True)
    if res.returncode != 0 or not out.is_file():
        bl.die(f"mogr process could not make the 1 MP source: {res.stderr[-400:]}")
    return out.read_bytes()


def check(port: int, method: str, target: str, body: bytes, want: str, who: str) -> None:
    """One request must succeed (and a conversion give WebP) before wrk repeats it."""
    r = bl.http_request(port, method, target, body=body)
    if r.status != 200:
        bl.die(f"{who} {method} {target[:90]} -> {r.status}: {r.body[:300]!r}")
    if want == "bytes" and len(r.body) != OBJECT_SIZE:
        bl.die(f"{who} GET returned {len(r.body)} bytes, not {OBJECT_SIZE}")
    if want == "webp" and bl.image_kind(r.body[:16]) != "webp":
        bl.die(f"{who} conversion returned {bl.image_kind(r.body[:16])}, not WebP")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    p.add_argument("--connections", type=int, default=16, help="clients for throughput (16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads in all (default 2)")
    p.add_argument("--duration", type=int, default=4, help="seconds per wrk run (default 4)")
    p.add_argument("--rounds", type=int, default=3, help="runs per cell, medians (default 3)")
    p.add_argument("--objects", type=int, default=50, help="1 MiB objects to GET (default 50)")
    p.add_argument("--only", default="get,put,conv", help="operations: get,put,conv")
    p.add_argument("--garage-base-port", type=int, default=4900,
                   help="Garage S3 ports base, +10, +20 (RPC +1, admin +3; default 4900)")
    p.add_argument("--mogr-base-port", type=int, default=8800,
                   help="mogr local, A, B listen on base, +1, +2 (default 8800)")
    args = p.parse_args()
    ops = [op for op in OPS if op.lower() in args.only.lower().split(",")]

    bl.ensure_packages({"wrk": "wrk"})
    mogr_bin = bl.mogr_binary(args.mogr)
    note = bl.machine_note()
    cells: dict[tuple[str, str, int], Cell] = {}
    rss: dict[str, dict[str, float]] = {}
    access: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mogr-scaleout-") as tmp:
        work = Path(tmp)
        garage = None
        nodes: dict[str, bl.MogrServer] = {}
        try:
            garage = Garage(work, args.garage_base_port)
            quiet = ("--admin-listen", "off")
            for i, (name, store) in enumerate(
                    (("local", ""), ("A", garage.store_toml(0)), ("B", garage.store_toml(1)))):
                nodes[name] = bl.MogrServer(mogr_bin, work, config=store + bl.NO_VARIANT_CACHE,
                                            name=name, port=args.mogr_base_port + i,
                                            extra_args=quiet)
            bl.log("mogr local :{}, A :{} (Garage node 0), B :{} (Garage node 1)".format(
                *(n.port for n in nodes.values())))
            cells, rss, access = run_all(args, ops, work, garage, nodes, mogr_bin)
        finally:
            for node in nodes.values():
                bl.stop(node.proc)
            if garage is not None:
                garage.stop()
    text = report(args, ops, cells, rss, access, note, mogr_bin)
    print(text)
    bl.log(f"written {bl.write_report('scaleout', text)}")


def run_all(args, ops, work, garage: Garage, nodes: dict[str, bl.MogrServer], mogr_bin: Path):
    """Uploads the data, then measures every cell; returns the cells, the peak RSS per
    operation and process, and how each node was accessed."""
    local, a, b = nodes["local"], nodes["A"], nodes["B"]
    local.create_bucket("public-read-write")
    a.create_bucket("public-read-write")
    body_file = work / "put-body.bin"
    body_file.write_bytes(os.urandom(OBJECT_SIZE))
    body = body_file.read_bytes()
    keys = [f"obj-{i:03d}.bin" for i in range(args.objects)]
    jpeg = make_jpeg(mogr_bin, work) if "CONV" in ops else b""
    sources = [f"img-{i}.jpg" for i in range(SOURCES)]
    bl.log(f"uploading {len(keys)} x 1 MiB and {len(sources)} JPEGs to local and to A/B")
    for i, key in enumerate(keys):
        data = os.urandom(OBJECT_SIZE)
        local.put(key, data)
        (a if i % 2 else b).put(key, data)
    for i, key in enumerate(sources if jpeg else []):
        local.put(key, jpeg)
        (a if i % 2 else b).put(key, jpeg)
    access = {name: n.choose_access(n.path(keys[0]), n.path("put/probe")) for name, n in nodes.items()}
    bl.log(f"mogr access: {access}")
    # Straight to the engine: the objects A and B wrote are `<bucket>/<key>` there.
    engine_get = [Target(garage.s3_port(n), [garage.presigned("GET", n, f"{bl.BUCKET}/{k}")
                                              for k in keys]) for n in (0, 1)]
    engine_put = [Target(garage.s3_port(n), [garage.presigned("PUT", n, f"{ENGINE_PREFIX}{k}")
                                              for k in keys]) for n in (0, 1)]
    conv = [(s, f"imageMogr2/thumbnail/{w}x/format/webp") for s in sources for w in WIDTHS]

    def mogr_targets(node: bl.MogrServer, op: str) -> Target:
        if op == "GET":
            return Target(node.port, [node.target("GET", k) for k in keys])
        if op == "PUT":
            return Target(node.port, [node.target("PUT", "put/" + k) for k in keys])
        return Target(node.port, [node.target("GET", s, rule) for s, rule in conv])

    plan: dict[tuple[str, str], list[Target]] = {}
    for op in ops:
        plan[("local", op)] = [mogr_targets(local, op)]
        plan[("garage", op)] = [mogr_targets(a, op), mogr_targets(b, op)]
        if op != "CONV":
            plan[("engine", op)] = engine_get if op == "GET" else engine_put
    for (system, op), split in plan.items():
        method = "PUT" if op == "PUT" else "GET"
        want = "webp" if op == "CONV" else ("bytes" if op == "GET" else "")
        for t in split:
            check(t.port, method, t.targets[0], body if op == "PUT" else b"", want,
                  f"{system}:{t.port}")

    mogr_pids = {"local": [local.proc.pid], "garage": [a.proc.pid, b.proc.pid], "engine": []}
    everyone = {"mogr local": [local.proc.pid], "mogr A": [a.proc.pid], "mogr B": [b.proc.pid],
                **{f"garage {i}": [pid] for i, pid in enumerate(garage.pids)}}
    cells: dict[tuple[str, str, int], Cell] = {}
    rss: dict[str, dict[str, float]] = {}
    concurrencies = [args.connections] + ([1] if args.connections != 1 else [])
    for op in ops:
        for pids in everyone.values():
            bl.reset_hwm(pids[0])
        method = "PUT" if op == "PUT" else "GET"
        for conns in concurrencies:
            for rnd in range(args.rounds):
                for system in SYSTEMS:
                    split = plan.get((system, op))
                    if split is None:
                        continue
                    # One client goes to one node: alternate the node from round to round.
                    if conns == 1 and len(split) > 1:
                        split = [split[rnd % len(split)]]
                    bl.log(f"{op} {system} -c{conns} round {rnd + 1}/{args.rounds}")
                    cell = cells.setdefault((system, op, conns), Cell())
                    cpu_m0 = sum(bl.tree_cpu_seconds(pid) for pid in mogr_pids[system])
                    cpu_g0 = sum(bl.tree_cpu_seconds(pid) for pid in garage.pids)
                    m0 = garage.metrics()
                    results = run_parallel_wrk(method, split, conns, args, work,
                                               body_file if op == "PUT" else None,
                                               f"{system}-{op}-{conns}")
                    m1 = garage.metrics()
                    cell.mogr_cpu += sum(bl.tree_cpu_seconds(pid) for pid in mogr_pids[system]) - cpu_m0
                    cell.garage_cpu += sum(bl.tree_cpu_seconds(pid) for pid in garage.pids) - cpu_g0
                    for k, v in m1.items():
                        cell.engine[k] = cell.engine.get(k, 0.0) + v - m0.get(k, 0.0)
                    cell.rps.append(sum(r.rps for r in results))
                    cell.p50.append(bl.median([r.p50_ms for r in results]))
                    cell.p99.append(max(r.p99_ms for r in results))
                    cell.ok += sum(r.ok for r in results)
                    cell.errors += sum(r.errors for r in results)
                    cell.error_text += [r.error_text() for r in results if r.errors]
        rss[op] = {name: sum(bl.vm_hwm_kb(pid) for pid in pids) / 1024
                   for name, pids in everyone.items()}
    return cells, rss, access


# ---------------------------------------------------------------- report


def fmt(x: float | None, digits: int = 1) -> str:
    """A number, or an en dash where there is none."""
    return "–" if x is None or x != x else f"{x:.{digits}f}"


def engine_calls(cell: Cell) -> str:
    """The engine's S3 calls per successful request by kind, each with the mean time Garage
    took to answer one, e.g. 'PutObject 1.00 x 52.1 ms, ...'."""
    if not cell.ok:
        return "–"
    parts = []
    for (kind, endpoint), v in sorted(cell.engine.items(), key=lambda kv: kv[0][1]):
        if kind == "count" and v > 0:
            each = cell.engine.get(("seconds", endpoint), 0.0) * 1000 / v
            parts.append(f"{endpoint} {v / cell.ok:.2f} x {each:.1f} ms")
    return ", ".join(parts) or "none"


def engine_ms(cell: Cell) -> float:
    """Milliseconds Garage spent answering S3 calls, per successful request."""
    return cell.per_request_ms(sum(v for (k, _), v in cell.engine.items() if k == "seconds"))


def report(args, ops, cells, rss, access, note, mogr_bin) -> str:
    """Markdown: throughput, latency, CPU and engine calls, RSS, and the ratios."""
    c = args.connections
    out = [
        "# Scale-out benchmark: mogr on local disk vs two mogr nodes over Garage x3\n",
        f"{note}. mogr: `{mogr_bin}`. Garage 2.5, 3 nodes on loopback, replication factor 3, "
        "sqlite metadata. mogr A talks to Garage node 0, B to node 1; the `engine` rows send "
        "the same requests straight to nodes 0 and 1 (SigV4 presigned). Variant cache off. "
        f"wrk, {args.rounds} round(s) x {args.duration} s per cell (medians; rounds interleave "
        f"the systems), {c} clients split evenly over the two nodes; 1 client alternates "
        f"nodes per round. Access: {'; '.join(f'{k}: {v}' for k, v in access.items())}. All processes share 2 cores with wrk.\n",
    ]

    def cell(system, op, conns):
        return cells.get((system, op, conns))

    rows = []
    for op in ops:
        l, g, e = cell("local", op, c), cell("garage", op, c), cell("engine", op, c)
        rows.append([
            OP_NAMES[op], fmt(bl.median(l.rps)) if l else "–", fmt(bl.median(g.rps)) if g else "–",
            bl.ratio(bl.median(g.rps), bl.median(l.rps)) if l and g else "–",
            fmt(bl.median(e.rps)) if e else "–",
            bl.ratio(bl.median(g.rps), bl.median(e.rps)) if g and e else "–",
        ])
    out += [f"## Throughput, {c} clients (requests/s)\n",
            bl.markdown_table(["operation", "local", "Garage, 2 nodes", "Garage/local",
                               "engine direct", "Garage/engine"], rows), ""]

    rows = []
    for op in ops:
        l, g, e = cell("local", op, 1), cell("garage", op, 1), cell("engine", op, 1)
        if not (l and g):
            continue
        lp, gp = bl.median(l.p50), bl.median(g.p50)
        ep = bl.median(e.p50) if e else None
        # One client: the mean latency is the run's time over its requests.
        lm, gm = 1000 / bl.median(l.rps), 1000 / bl.median(g.rps)
        em = 1000 / bl.median(e.rps) if e else None
        rows.append([
            OP_NAMES[op], f"{fmt(lp, 2)} / {fmt(lm, 2)}", f"{fmt(gp, 2)} / {fmt(gm, 2)}",
            f"{bl.ratio(gp, lp)} / {bl.ratio(gm, lm)}",
            f"{fmt(ep, 2)} / {fmt(em, 2)}" if e else "–",
            f"{fmt(gp - ep, 2)} / {fmt(gm - em, 2)}" if e else "–", fmt(engine_ms(g), 2),
        ])
    if rows:
        out += ["## Latency, 1 client (ms, p50 / mean; medians of rounds)\n",
                bl.markdown_table(["operation", "local", "Garage, 2 nodes", "Garage/local",
                                   "engine direct", "mogr's part (Garage - engine)",
                                   "Garage time in S3 calls per request"], rows),
                "", "\"Garage time in S3 calls\" sums Garage's own request durations "
                "(`api_s3_request_duration`, a mean) of every engine call one mogr request made. "
                "Garage's latency at low load is bimodal (a share of its calls take about 40 ms "
                "more, the engine's own rows included), so a p50 can jump between runs: read the "
                "mean too.\n"]

    rows = []
    for op in ops:
        for conns in ([c, 1] if c != 1 else [1]):
            for system in SYSTEMS:
                x = cell(system, op, conns)
                if not x:
                    continue
                mogr_ms, garage_ms = x.per_request_ms(x.mogr_cpu), x.per_request_ms(x.garage_cpu)
                rows.append([
                    OP_NAMES[op], str(conns), system, fmt(bl.median(x.rps)), fmt(bl.median(x.p50), 2),
                    fmt(bl.median(x.p99), 2),
                    fmt(mogr_ms, 2) if system != "engine" else "–", fmt(garage_ms, 2),
                    fmt((mogr_ms if system != "engine" else 0) + garage_ms, 2),
                    engine_calls(x) if system != "local" else "–",
                    fmt(engine_ms(x), 2) if system != "local" else "–",
                    "; ".join(x.error_text) or "0",
                ])
    out += ["## Every cell\n",
            "CPU per request: user+sys of the mogr processes (local, or A+B) and of the three "
            "Garage processes over the cell, divided by its successful requests. Engine calls: "
            "Garage's S3 request counters per successful request, each kind with the mean time "
            "Garage took to answer one (`api_s3_request_duration`); bucket-record reads of "
            "mogr's 1 s cache are included.\n",
            bl.markdown_table(["operation", "clients", "system", "req/s", "p50 ms", "p99 ms",
                               "mogr CPU ms/req", "Garage CPU ms/req", "total CPU ms/req",
                               "engine calls/req", "Garage ms in calls/req", "errors"], rows), ""]

    names = list(next(iter(rss.values())).keys()) if rss else []
    out += ["## Peak RSS (MiB, VmHWM reset before each operation's cells)\n",
            bl.markdown_table(["operation", *names],
                              [[OP_NAMES[op], *(fmt(rss[op][n]) for n in names)] for op in rss]),
            ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    bl.log(f"done in {time.monotonic() - t0:.0f} s")
