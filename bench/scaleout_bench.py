#!/usr/bin/env python3
"""Scale-out benchmark: what the S3 engine adds per request. One run, the same client, three
servers at once: one mogr node on local disk, and two mogr nodes over a 3-node Garage cluster
(requests alternate between them). Per request, sequentially: PUT 1 MiB, GET 1 MiB, and a
download-mode conversion (1 MP PNG -> 256 px WebP). Reports medians (ms) and Garage/local.

    scripts/garage.sh start /tmp/garage
    mogr serve --data /tmp/local --listen 127.0.0.1:9600 ... &          # local disk
    mogr serve --config /tmp/garage/mogr-store.toml --listen 127.0.0.1:9400 ... &   # node A
    mogr serve --config /tmp/garage/mogr-store.toml --listen 127.0.0.1:9500 ... &   # node B
    .venv/bin/python bench/scaleout_bench.py --local 9600 --nodes 9400,9500 \\
        --secret-id ID --secret-key KEY [--rounds 40]

Needs the official SDK (.venv of tests/sdk) and Pillow.
"""

import argparse
import io
import os
import statistics
import time
import uuid

import requests
from PIL import Image
from qcloud_cos import CosConfig, CosS3Client

APPID = "1250000000"


def client(port, args):
    cfg = CosConfig(Region="ap-guangzhou", IP="127.0.0.1", Port=port, Scheme="http",
                    SecretId=args.secret_id, SecretKey=args.secret_key, Timeout=60)
    return CosS3Client(cfg, retry=0)


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def convert(c, bucket, key):
    host = c.get_conf().get_host(bucket)
    params = {"imageMogr2/thumbnail/256x/format/webp": ""}
    headers = {"Host": host}
    headers["Authorization"] = c.get_auth(Method="GET", Bucket=bucket, Key=key, Headers=headers, Params=params)
    r = requests.get(c.get_conf().uri(bucket=bucket, path=key), headers=headers, params=params, timeout=60)
    assert r.status_code == 200, r.text
    # Variant caches would hide the work: each round asks for a new source key.
    return r.content


def run(clients, rounds):
    bucket = f"bench{uuid.uuid4().hex[:8]}-{APPID}"
    clients[0].create_bucket(Bucket=bucket)
    body = os.urandom(1 << 20)
    im = Image.new("RGB", (1000, 1000))
    im.putdata([((x * 3) % 256, (y * 5) % 256, (x + y) % 256) for y in range(1000) for x in range(1000)])
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    png = buf.getvalue()
    put, get, conv = [], [], []
    for i in range(rounds):
        c = clients[i % len(clients)]
        other = clients[(i + 1) % len(clients)]
        put.append(timed(lambda: c.put_object(Bucket=bucket, Key=f"o{i}", Body=body)))
        get.append(timed(lambda: other.get_object(Bucket=bucket, Key=f"o{i}")["Body"].get_raw_stream().read()))
        c.put_object(Bucket=bucket, Key=f"img{i}.png", Body=png)
        conv.append(timed(lambda: convert(other, bucket, f"img{i}.png")))
    for i in range(rounds):
        clients[0].delete_object(Bucket=bucket, Key=f"o{i}")
        clients[0].delete_object(Bucket=bucket, Key=f"img{i}.png")
    clients[0].delete_bucket(Bucket=bucket)
    return {k: statistics.median(v) for k, v in (("PUT 1 MiB", put), ("GET 1 MiB", get), ("convert", conv))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--local", type=int, required=True)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--secret-id", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    local = run([client(args.local, args)], args.rounds)
    garage = run([client(int(p), args) for p in args.nodes.split(",")], args.rounds)
    print(f"| request (median of {args.rounds}, ms) | local disk, 1 node | Garage x3, 2 nodes | Garage/local |")
    print("|---|---|---|---|")
    for k in local:
        print(f"| {k} | {local[k]:.1f} | {garage[k]:.1f} | {garage[k] / local[k]:.2f} |")


if __name__ == "__main__":
    main()
