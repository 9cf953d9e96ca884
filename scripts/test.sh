#!/usr/bin/env bash
# Runs the whole mogr test suite on a fresh Debian 12 machine (or a prepared one, quickly):
#   1. system packages (skipped when all are installed)
#   2. cargo fmt --check, cargo clippy -D warnings
#   3. cargo test --workspace
#   4. builds the mogr binary, starts `mogr serve` on a free loopback port with a throw-away
#      data folder and credentials, and runs against it tests/sdk (the official
#      cos-python-sdk-v5, in .venv) and tests/node (the official cos-nodejs-sdk-v5, with Node's
#      own test runner; needs Node.js 20+ and npm), then tests/playground: the admin
#      listener's web playground in headless Chromium (playwright-core); its screenshot is kept
#      in a mogr-artefacts.* folder whose path is printed
# Every step runs even when an earlier one failed (except when the binary cannot be built), so
# one run shows everything; the exit status is non-zero if any step failed.
#
# Usage: scripts/test.sh [--sdk-only] [--no-lint] [-- PYTEST_ARGS...]
#   --sdk-only   skip lint and cargo test (iterate on the SDK suites)
#   --no-lint    skip cargo fmt and cargo clippy
# Environment: MOGR_CI_TESTS=0 skips the image-processing SDK tests (tests/sdk/test_ci.py and
# tests/node/test/ci.test.js; they run by default); MOGR_NODE_TESTS=0 skips tests/node;
# MOGR_PLAYGROUND_TESTS=0 skips the browser test; MOGR_GARAGE_TESTS=0 skips the scale-out tests over
# a 3-node Garage cluster (scripts/garage.sh; the first run builds garage, 10-20 minutes).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# CI may start this with no stdin at all; nothing here reads it, and a closed fd 0 would be
# reused by the first file a child opens.
exec </dev/null

lint=1
cargo_tests=1
pytest_args=()
while (($#)); do
    case "$1" in
    --sdk-only) lint=0 cargo_tests=0 ;;
    --no-lint) lint=0 ;;
    --) shift; pytest_args=("$@"); break ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "test: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# One clean build per run: incremental artefacts would only cost disk (gigabytes) and time.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mogr-test.XXXXXX")
# Kept after the run (screenshots); removed when nothing was written to it.
ARTEFACTS=$(mktemp -d "${TMPDIR:-/tmp}/mogr-artefacts.XXXXXX")
SERVER_PID=
failed_steps=()

stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}
cleanup() {
    stop_server
    declare -F stop_nodes >/dev/null && stop_nodes
    [[ -d "$WORK/garage" ]] && bash scripts/garage.sh stop "$WORK/garage" >/dev/null 2>&1
    rm -rf "$WORK"
    rmdir "$ARTEFACTS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }
# Runs a command as a named step; a failure is recorded, not fatal.
run_step() {
    local name=$1
    shift
    step "$name"
    "$@" || failed_steps+=("$name")
}

step "system packages"
bash scripts/setup.sh || exit 1
# Cargo caches its compiler probes here, failures included: a probe that once failed (for
# instance while /dev/null was broken) would fail every later build. It costs two rustc calls.
rm -f target/.rustc_info.json "${CARGO_TARGET_DIR:-target}/.rustc_info.json"

if ((lint)); then
    color=never
    [[ -t 1 ]] && color=auto
    run_step "cargo fmt" cargo fmt --all -- --check --color "$color"
    # Before the tests: a check build is the quickest way to a lint failure, and it shares the
    # C builds of mozjpeg/libwebp (build-script outputs) with the test build that follows.
    run_step "cargo clippy" cargo clippy --workspace --all-targets -q -- -D warnings
fi

if ((cargo_tests)); then
    step "cargo test"
    # --no-fail-fast: one failing test binary must not hide the results of the others.
    cargo test --workspace --no-fail-fast -q 2>&1 | tee "$WORK/cargo-test.log"
    ((PIPESTATUS[0] == 0)) || failed_steps+=("cargo test")
fi

# The debug binary: after `cargo test` every dependency is already built in this profile, so
# this is a link step, while --release would rebuild the whole tree.
step "build mogr"
built=1
cargo build -q -p mogr || {
    echo "test: cannot build the mogr binary; SDK tests not run" >&2
    failed_steps+=("build mogr")
    built=0
}
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
MOGR_BIN="$TARGET_DIR/debug/mogr"

# A venv under .venv with the pinned SDK; reinstalled only when requirements.txt changes.
ensure_venv() {
    local req=tests/sdk/requirements.txt venv=.venv python=python3
    local stamp
    stamp=$(cat "$req" | sha256sum | cut -d' ' -f1)
    if [[ -x $venv/bin/python ]] && $venv/bin/python -c '' 2>/dev/null &&
        [[ "$(cat $venv/.requirements.sha256 2>/dev/null)" == "$stamp" ]]; then
        return 0
    fi
    if ! $python -c 'import venv, ensurepip' 2>/dev/null; then
        # Debian's own python3 ships venv support separately.
        bash scripts/setup.sh python3-venv || return 1
        python=/usr/bin/python3
    fi
    rm -rf "$venv"
    $python -m venv "$venv" || return 1
    $venv/bin/python -m pip install -q --disable-pip-version-check -r "$req" || return 1
    echo "$stamp" >"$venv/.requirements.sha256"
}

# <dir>/node_modules from package-lock.json; `npm ci` again only when the lock changes.
ensure_node_modules() {
    local dir=${1:-tests/node} major stamp
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "test: node and npm are needed for $dir (Node.js 20 or later)" >&2
        return 1
    fi
    major=$(node -p 'process.versions.node.split(".")[0]')
    if ((major < 20)); then
        echo "test: $dir needs Node.js 20 or later, found $(node --version)" >&2
        return 1
    fi
    stamp=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [[ "$(cat "$dir/node_modules/.mogr-lock.sha256" 2>/dev/null)" == "$stamp" ]]; then
        return 0
    fi
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) </dev/null || return 1
    echo "$stamp" >"$dir/node_modules/.mogr-lock.sha256"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
    local port admin_port id key
    port=$(free_port)
    admin_port=$(free_port)
    id="AKIDmogrtest$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    mkdir -p "$WORK/data"
    # A user's MOGR_CONFIG must not leak into the throw-away server.
    env -u MOGR_CONFIG "$MOGR_BIN" serve --listen "127.0.0.1:$port" --data "$WORK/data" \
        --admin-listen "127.0.0.1:$admin_port" \
        --secret-id "$id" --secret-key "$key" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    # curl is not on a fresh machine: poll the port with bash's /dev/tcp.
    for _ in $(seq 300); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "test: mogr serve exited early:" >&2
            tail -n 30 "$WORK/server.log" >&2
            SERVER_PID=
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            export MOGR_ENDPOINT_HOST=127.0.0.1 MOGR_ENDPOINT_PORT=$port
            export MOGR_ADMIN_URL=http://127.0.0.1:$admin_port
            export MOGR_SECRET_ID=$id MOGR_SECRET_KEY=$key
            export MOGR_REGION=${MOGR_REGION:-ap-guangzhou} MOGR_SERVER_PID=$SERVER_PID
            # The cache tests look at the server's data folder and run `mogr cache`; tests that need
            # a server of their own (a different configuration) start this binary.
            export MOGR_DATA_DIR="$WORK/data" MOGR_BIN
            echo "mogr serve (pid $SERVER_PID) on 127.0.0.1:$port"
            return 0
        fi
        sleep 0.2
    done
    echo "test: mogr serve did not open 127.0.0.1:$port within 60 s" >&2
    tail -n 30 "$WORK/server.log" >&2
    return 1
}

sdk_ran=0
node_ran=0
node_rc=0
playground_ran=0
playground_rc=0
if ((built)) && [[ -x "$MOGR_BIN" ]]; then
    step "python venv (.venv)"
    venv_ok=1
    ensure_venv || { venv_ok=0; failed_steps+=("python venv"); }
    node_ok=0
    if [[ ${MOGR_NODE_TESTS:-1} != 0 ]]; then
        step "node modules (tests/node)"
        node_ok=1
        ensure_node_modules || { node_ok=0; failed_steps+=("node modules"); }
    fi
    playground_ok=0
    if [[ ${MOGR_PLAYGROUND_TESTS:-1} != 0 ]]; then
        step "node modules (tests/playground)"
        playground_ok=1
        ensure_node_modules tests/playground || { playground_ok=0; failed_steps+=("playground modules"); }
    fi
    if ((venv_ok || node_ok || playground_ok)); then
        if step "start mogr serve" && start_server; then
            export MOGR_CI_TESTS=${MOGR_CI_TESTS:-1}
            if ((venv_ok)); then
                step "Python SDK tests (tests/sdk)"
                PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest tests/sdk -q -rfEs --tb=short \
                    -p no:cacheprovider --junitxml="$WORK/pytest.xml" "${pytest_args[@]}"
                rc=$?
                sdk_ran=1
                if ((rc == 5)); then
                    echo "test: pytest collected no SDK tests" >&2
                fi
                if ((rc != 0)); then
                    failed_steps+=("Python SDK tests")
                    echo "--- last lines of the server log ---"
                    tail -n 40 "$WORK/server.log"
                fi
            fi
            if ((node_ok)); then
                # Same server, same credentials: both official SDKs, call by call. TAP on stdout
                # ends with '# pass N' / '# fail N'; the junit copy feeds the total below.
                step "Node.js SDK tests (tests/node)"
                (cd tests/node && node --test --test-reporter=tap --test-reporter-destination=stdout \
                    --test-reporter=junit --test-reporter-destination="$WORK/node.xml" test/*.test.js) </dev/null
                node_rc=$?
                node_ran=1
                if ((node_rc != 0)); then
                    failed_steps+=("Node.js SDK tests")
                    echo "--- last lines of the server log ---"
                    tail -n 40 "$WORK/server.log"
                fi
            fi
            if ((playground_ok)); then
                step "Playground browser test (tests/playground)"
                (cd tests/playground && MOGR_TEST_ARTEFACTS="$ARTEFACTS" node --test \
                    --test-reporter=tap --test-reporter-destination=stdout \
                    --test-reporter=junit --test-reporter-destination="$WORK/playground.xml" \
                    test/*.test.js) </dev/null
                playground_rc=$?
                playground_ran=1
                if ((playground_rc != 0)); then
                    failed_steps+=("Playground browser test")
                    echo "--- last lines of the server log ---"
                    tail -n 40 "$WORK/server.log"
                fi
            fi
            stop_server
        else
            failed_steps+=("start mogr serve")
        fi
    fi
fi

# Scale-out: a 3-node Garage cluster on loopback (scripts/garage.sh builds garage once into
# ~/.cache/mogr, or reuses it), the S3 backend's contract suite against it, then two mogr nodes
# over it and tests/sdk/test_scaleout.py against both. MOGR_GARAGE_TESTS=0 skips all of it.
GARAGE_DIR="$WORK/garage"
NODE_PIDS=()
stop_nodes() {
    for pid in "${NODE_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    NODE_PIDS=()
}
# Starts `mogr serve` over the cluster with the given data folder; sets NODE_PORT. (Not run
# in a command substitution: NODE_PIDS must reach stop_nodes.)
start_s3_node() {
    local data=$1 config=${2:-$GARAGE_DIR/mogr-store.toml}
    NODE_PORT=$(free_port)
    mkdir -p "$data"
    env -u MOGR_CONFIG "$MOGR_BIN" serve --config "$config" \
        --listen "127.0.0.1:$NODE_PORT" --data "$data" --admin-listen off \
        --secret-id "$SCALE_ID" --secret-key "$SCALE_KEY" >"$data.log" 2>&1 &
    NODE_PIDS+=($!)
    for _ in $(seq 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$NODE_PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "test: mogr over Garage did not open 127.0.0.1:$NODE_PORT:" >&2
    tail -n 20 "$data.log" >&2
    return 1
}
if ((built)) && [[ ${MOGR_GARAGE_TESTS:-1} != 0 ]]; then
    step "Garage cluster (scripts/garage.sh)"
    if bash scripts/garage.sh start "$GARAGE_DIR"; then
        # shellcheck disable=SC1091
        source "$GARAGE_DIR/env"
        run_step "S3 backend contract suite over Garage" \
            cargo test -q -p mogr-store --test it s3_contract::
        SCALE_ID="AKIDmogrscale$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
        SCALE_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        step "two mogr nodes over Garage"
        if start_s3_node "$WORK/node-a" && port_a=$NODE_PORT &&
            start_s3_node "$WORK/node-b" && port_b=$NODE_PORT; then
            echo "node A on 127.0.0.1:$port_a, node B on 127.0.0.1:$port_b"
            if ((${venv_ok:-0})); then
                run_step "Python SDK scale-out tests (two nodes over Garage)" \
                    env -u MOGR_SERVER_PID MOGR_ENDPOINT_PORT="$port_a" MOGR_NODE_B_PORT="$port_b" \
                    MOGR_SECRET_ID="$SCALE_ID" MOGR_SECRET_KEY="$SCALE_KEY" \
                    PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest tests/sdk/test_scaleout.py \
                    tests/sdk/test_scaleout_fault.py \
                    -q -rfEs --tb=short -p no:cacheprovider
            fi
        else
            failed_steps+=("mogr over Garage")
        fi
        stop_nodes
        # Again with one engine bucket per mogr bucket.
        step "two mogr nodes over Garage, one engine bucket per mogr bucket"
        per_bucket="$GARAGE_DIR/mogr-store-per-bucket.toml"
        if start_s3_node "$WORK/node-c" "$per_bucket" && port_c=$NODE_PORT &&
            start_s3_node "$WORK/node-d" "$per_bucket" && port_d=$NODE_PORT; then
            if ((${venv_ok:-0})); then
                run_step "Python SDK scale-out tests (per-bucket engine buckets)" \
                    env -u MOGR_SERVER_PID MOGR_ENDPOINT_PORT="$port_c" MOGR_NODE_B_PORT="$port_d" \
                    MOGR_SECRET_ID="$SCALE_ID" MOGR_SECRET_KEY="$SCALE_KEY" \
                    PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest tests/sdk/test_scaleout.py \
                    -q -rfEs --tb=short -p no:cacheprovider
            fi
        else
            failed_steps+=("mogr over Garage, per-bucket")
        fi
        stop_nodes
        bash scripts/garage.sh stop "$GARAGE_DIR"
    else
        failed_steps+=("Garage cluster")
    fi
fi

# One closing line that adds up cargo test, pytest and node --test, in the 'N passed, N failed'
# form.
summary=$(python3 - "$WORK/cargo-test.log" "$WORK/pytest.xml" "$sdk_ran" "$WORK/node.xml" "$node_ran" \
    "$node_rc" "$WORK/playground.xml" "$playground_ran" "$playground_rc" <<'EOF'
import os, re, sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
log, junit, sdk_ran, node_junit, node_ran, node_rc = sys.argv[1:7]
playground_junit, playground_ran, playground_rc = sys.argv[7:10]
if os.path.exists(log):
    text = open(log, errors="replace").read()
    for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", text):
        passed += int(m[1]); failed += int(m[2]); skipped += int(m[3])
if sdk_ran == "1" and os.path.exists(junit):
    root = ET.parse(junit).getroot()
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        n = int(suite.get("tests", 0))
        f = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        s = int(suite.get("skipped", 0))
        passed += n - f - s; failed += f; skipped += s
for ran, junit_path, rc in ((node_ran, node_junit, node_rc),
                             (playground_ran, playground_junit, playground_rc)):
    if ran != "1":
        continue
    # node's junit nests suites (describe) in suites; every leaf test is one <testcase>.
    node_failed = 0
    if os.path.exists(junit_path):
        for case in ET.parse(junit_path).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                node_failed += 1
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    # A failure outside any test (a hook, a crash before the report) still counts once.
    failed += node_failed or (1 if rc != "0" else 0)
print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
EOF
)

# Nothing the suite runs may replace the null device (see scripts/setup.sh for what that breaks).
if [[ ! -c /dev/null ]]; then
    echo "test: /dev/null is no longer the null device after the run" >&2
    failed_steps+=("/dev/null intact")
fi

echo
if [[ -n "$(ls -A "$ARTEFACTS" 2>/dev/null)" ]]; then
    echo "test artefacts (screenshots): $ARTEFACTS"
fi
if ((${#failed_steps[@]})); then
    echo "FAILED steps: $(IFS=,; echo "${failed_steps[*]}")"
    echo "$summary"
    exit 1
fi
echo "$summary"
