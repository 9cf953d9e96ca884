#!/usr/bin/env python3
"""Start-up time and GET latency under heavy listing, for a store with many keys.

    # a data folder with 150k keys in 150 folders (see store_scale.rs)
    eatmydata target/release/examples/store_scale fill /tmp/d150k bench-1250000000 150000 && sync
    nice -n 10 python3 bench/list_latency.py --data /tmp/d150k \
        --mogr target/release/mogr --baseline /path/to/older/mogr

For each binary (the baseline first): start `mogr serve` on the data folder and time the
first answer; measure GET latency of one object alone, then while `--listers` clients list
`photos/` with delimiter `/` (every key lies in one of the folders, so each listing rolls up
all of them) as fast as they can. Reports medians and p99, and the ratios new/baseline.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import benchlib as bl

PROBE_KEY = "photos/0000/000000000.jpg"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def first_answer(port: int, proc, timeout: float = 600) -> float:
    """Seconds from now until HEAD Bucket answers 200."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if proc.poll() is not None:
            bl.die("the server exited during start-up")
        try:
            if bl.signed_request(port, "HEAD", f"/{bl.BUCKET}/").status == 200:
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.02)
    bl.die("no answer")
    return 0.0


def probe(port: int, seconds: float) -> list[float]:
    """Sequential GETs of one object for `seconds`; their latencies."""
    out = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        began = time.monotonic()
        r = bl.signed_request(port, "GET", f"/{bl.BUCKET}/{PROBE_KEY}")
        if r.status != 200:
            bl.die(f"probe GET answered {r.status}")
        out.append(time.monotonic() - began)
    return out


def list_folders(port: int) -> bl.HttpResult:
    """GET Bucket of `photos/` with delimiter `/`, the query signed."""
    params = {"prefix": "photos/", "delimiter": "/", "max-keys": "1000"}
    host = f"127.0.0.1:{port}"
    auth = bl.cos_authorization("GET", f"/{bl.BUCKET}/", params, {"host": host})
    query = "&".join(f"{k}={bl.cos_quote(v)}" for k, v in params.items())
    return bl.http_request(
        port, "GET", f"/{bl.BUCKET}/?{query}", headers={"Host": host, "Authorization": auth}
    )


def lister(port: int, stop: threading.Event, times: list[float], errors: list[str]) -> None:
    while not stop.is_set():
        began = time.monotonic()
        r = list_folders(port)
        if r.status != 200 or b"<CommonPrefixes>" not in r.body:
            errors.append(f"{r.status} {r.body[:100]!r}")
            return
        times.append(time.monotonic() - began)


def measure(binary: Path, data: Path, listers: int, seconds: float) -> dict:
    port = bl.free_port()
    log_path = data.parent / f"list-latency-{binary.name}.log"
    proc = bl.start_server(
        [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data),
         "--secret-id", bl.SECRET_ID, "--secret-key", bl.SECRET_KEY],
        log_path,
    )
    try:
        startup = first_answer(port, proc)
        idle = probe(port, seconds / 2)
        stop = threading.Event()
        list_times: list[float] = []
        errors: list[str] = []
        threads = [threading.Thread(target=lister, args=(port, stop, list_times, errors)) for _ in range(listers)]
        for t in threads:
            t.start()
        time.sleep(1)
        busy = probe(port, seconds)
        stop.set()
        for t in threads:
            t.join()
        if errors:
            bl.die(f"listing failed: {errors[0]}")
    finally:
        bl.stop(proc)
    return {
        "startup": startup,
        "idle_p50": percentile(idle, 0.5),
        "idle_p99": percentile(idle, 0.99),
        "busy_p50": percentile(busy, 0.5),
        "busy_p99": percentile(busy, 0.99),
        "gets": len(busy),
        "list_p50": percentile(list_times, 0.5),
        "lists_per_s": len(list_times) / (seconds + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--mogr", help="the build to measure (default target/release/mogr)")
    parser.add_argument("--baseline", help="an older build to compare with")
    parser.add_argument("--listers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    runs = []
    if args.baseline:
        runs.append(("baseline", Path(args.baseline)))
    runs.append(("mogr", bl.mogr_binary(args.mogr)))
    results = {}
    for name, binary in runs:
        bl.log(f"measuring {name} ({binary})")
        results[name] = measure(binary, args.data.resolve(), args.listers, args.seconds)
    ms = lambda s: f"{s * 1000:.1f}"  # noqa: E731
    rows = []
    for label, field, fmt in [
        ("first answer after start (s)", "startup", lambda s: f"{s:.2f}"),
        ("GET p50, idle (ms)", "idle_p50", ms),
        ("GET p99, idle (ms)", "idle_p99", ms),
        (f"GET p50, {args.listers} listers (ms)", "busy_p50", ms),
        (f"GET p99, {args.listers} listers (ms)", "busy_p99", ms),
        ("listing p50 (ms)", "list_p50", ms),
        ("listings per second", "lists_per_s", lambda v: f"{v:.0f}"),
    ]:
        row = [label] + [fmt(results[name][field]) for name, _ in runs]
        if len(runs) == 2:
            row.append(bl.ratio(results["mogr"][field], results["baseline"][field]))
        rows.append(row)
    header = ["", *[name for name, _ in runs]] + (["mogr/baseline"] if len(runs) == 2 else [])
    text = "\n".join([
        f"# Listing under load: {args.listers} listers of a delimiter listing, data {args.data}",
        "",
        bl.machine_note(),
        "",
        bl.markdown_table(header, rows),
    ])
    bl.write_report("list-latency", text)
    print(text)


if __name__ == "__main__":
    main()
