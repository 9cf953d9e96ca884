"""A Garage node killed with SIGKILL in the middle of uploads and image requests through two
mogr nodes: every upload the client was told succeeded is still there byte for byte, and each
answer is a success or 503 SlowDown, never a 500 or a hang. The node is then restarted and
the run goes on.

Needs the cluster of scripts/garage.sh (MOGR_GARAGE_DIR) and two mogr nodes over it
(MOGR_NODE_B_PORT); scripts/test.sh provides both. Otherwise skipped.
"""

import io
import os
import signal
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from qcloud_cos.cos_exception import CosClientError, CosServiceError

from conftest import empty_and_delete_bucket, new_bucket_name, read_body, signed_request

ROOT = Path(__file__).resolve().parents[2]
# A node other than the one the mogr nodes talk to: the cluster keeps a quorum without it.
VICTIM = 2


@pytest.fixture(scope="module")
def cluster():
    garage_dir = os.environ.get("MOGR_GARAGE_DIR")
    if not garage_dir or not os.environ.get("MOGR_NODE_B_PORT"):
        pytest.skip("needs scripts/garage.sh's cluster and two mogr nodes (scripts/test.sh)")
    return Path(garage_dir)


def png(seed: int) -> bytes:
    im = Image.new("RGB", (40 + seed % 20, 30))
    im.putdata([((x * seed) % 256, (y * 3) % 256, seed % 256) for y in range(30) for x in range(im.width)])
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def test_killing_a_garage_node_loses_no_acknowledged_write(cluster, server):
    # A short timeout: an answer that takes longer counts as a hang.
    client = server.client(Timeout=30)
    node_b = server.client(Port=int(os.environ["MOGR_NODE_B_PORT"]), Timeout=30)
    nodes = [client, node_b]
    bucket = new_bucket_name("fault")
    client.create_bucket(Bucket=bucket)
    acknowledged = {}
    answers = []

    def one_round(i: int) -> None:
        c = nodes[i % 2]
        key = f"k{i:03d}.png"
        body = png(i) + os.urandom(i * 997 % 50_000)
        try:
            c.put_object(Bucket=bucket, Key=key, Body=body)
            acknowledged[key] = body
            answers.append(200)
        except CosServiceError as e:
            answers.append(e.get_status_code())
        if i % 3 == 0 and acknowledged:
            src = next(iter(acknowledged))
            r = signed_request(nodes[(i + 1) % 2], "GET", bucket, src,
                               params={"imageMogr2/thumbnail/20x/format/jpg": ""})
            answers.append(r.status_code)

    pid_file = cluster / f"node{VICTIM}" / "pid"
    try:
        for i in range(0, 15):
            one_round(i)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        for i in range(15, 40):
            one_round(i)
        subprocess.run(["bash", str(ROOT / "scripts/garage.sh"), "restart-node", str(cluster), str(VICTIM)],
                       check=True, timeout=60)
        for i in range(40, 55):
            one_round(i)
    except CosClientError as e:  # a timeout: mogr hung
        pytest.fail(f"a request did not complete: {e}")

    assert set(answers) <= {200, 503}, answers
    assert len(acknowledged) > 40, f"only {len(acknowledged)} of 55 uploads succeeded: {answers}"
    for key, body in acknowledged.items():
        assert read_body(nodes[hash(key) % 2].get_object(Bucket=bucket, Key=key)) == body, key
    empty_and_delete_bucket(client, bucket)
