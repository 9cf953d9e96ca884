#!/usr/bin/env bash
# A throw-away 3-node Garage cluster on loopback (replication factor 3) for mogr's S3
# backend tests and benchmarks.
#
#   scripts/garage.sh start [DIR]   build or reuse garage, start 3 nodes, apply the layout,
#                                   create a key and the engine bucket; writes DIR/env
#                                   (MOGR_S3_* variables) and DIR/mogr-store.toml
#   scripts/garage.sh stop [DIR]    stop the nodes and remove DIR
#
# Garage (AGPL) only ever runs as a separate process. The binary is built once with
# `cargo install` into ~/.cache/mogr/garage-$GARAGE_VERSION (about 10-20 minutes on 2 cores)
# unless $GARAGE_BIN names one; set GARAGE_NO_BUILD=1 to fail instead of building.
set -euo pipefail

GARAGE_VERSION="${GARAGE_VERSION:-2.5.0}"
CACHE="${HOME}/.cache/mogr/garage-${GARAGE_VERSION}"
GARAGE="${GARAGE_BIN:-${CACHE}/bin/garage}"
BASE_PORT="${GARAGE_BASE_PORT:-3900}"
BUCKET="${GARAGE_BUCKET:-mogr}"

cmd="${1:-start}"
DIR="${2:-${TMPDIR:-/tmp}/mogr-garage}"

build() {
    [ -x "$GARAGE" ] && return 0
    if [ "${GARAGE_NO_BUILD:-0}" = 1 ]; then
        echo "garage.sh: $GARAGE is missing and GARAGE_NO_BUILD=1" >&2
        return 1
    fi
    echo "garage.sh: building garage $GARAGE_VERSION once into $CACHE (takes a while)" >&2
    local target
    target="$(mktemp -d "${TMPDIR:-/tmp}/garage-build.XXXXXX")"
    CARGO_TARGET_DIR="$target" nice -n 10 cargo install garage --version "$GARAGE_VERSION" \
        --locked --root "$CACHE" >&2
    rm -rf "$target"
}

node_conf() { # index
    local i="$1" rpc=$((BASE_PORT + 10 * $1 + 1)) s3=$((BASE_PORT + 10 * $1))
    cat > "$DIR/node$i/garage.toml" <<CONF
metadata_dir = "$DIR/node$i/meta"
data_dir = "$DIR/node$i/data"
db_engine = "sqlite"
replication_factor = 3
rpc_secret = "$SECRET"
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:$((BASE_PORT + 10 * $1 + 3))"
CONF
}

cli() { "$GARAGE" -c "$DIR/node0/garage.toml" "$@"; }

# Restart a node that was stopped (the fault test kills one with SIGKILL).
start_node() { # index
    local i="$1"
    "$GARAGE" -c "$DIR/node$i/garage.toml" server > "$DIR/node$i/log" 2>&1 &
    echo $! > "$DIR/node$i/pid"
}

wait_for() { # what, command...
    local what="$1"; shift
    for _ in $(seq 1 100); do
        if "$@" > /dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "garage.sh: timed out waiting for $what" >&2
    return 1
}

start() {
    build
    stop_nodes
    rm -rf "$DIR"
    mkdir -p "$DIR"
    SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    for i in 0 1 2; do
        mkdir -p "$DIR/node$i"
        node_conf "$i"
        start_node "$i"
    done
    wait_for "node 0" cli status
    local ids=()
    for i in 0 1 2; do
        ids+=("$("$GARAGE" -c "$DIR/node$i/garage.toml" node id -q)")
    done
    for i in 1 2; do cli node connect "${ids[$i]}" > /dev/null; done
    for i in 0 1 2; do
        cli layout assign -z "z$i" -c 1G "${ids[$i]%%@*}" > /dev/null
    done
    cli layout apply --version 1 > /dev/null
    cli key create mogr-key > "$DIR/key.txt"
    local key_id secret
    key_id="$(awk '/Key ID:/ {print $3}' "$DIR/key.txt")"
    secret="$(awk '/Secret key:/ {print $3}' "$DIR/key.txt")"
    cli bucket create "$BUCKET" > /dev/null
    cli bucket allow --read --write --owner "$BUCKET" --key mogr-key > /dev/null
    # For `bucket_mode = "per-bucket"`, where mogr creates an engine bucket per mogr bucket;
    # its records live in a main bucket of their own.
    cli key allow --create-bucket mogr-key > /dev/null
    cli bucket create "$BUCKET-per-bucket" > /dev/null
    cli bucket allow --read --write --owner "$BUCKET-per-bucket" --key mogr-key > /dev/null
    # Right after the layout is applied, nodes 1 and 2 answer S3 requests with 503 until
    # they have quorum; the admin API's health check says when every node is ready.
    for i in 0 1 2; do
        wait_for "node $i to be fully operational" python3 -c \
            "import urllib.request as u; u.urlopen('http://127.0.0.1:$((BASE_PORT + 10 * i + 3))/health', timeout=2)"
    done
    cat > "$DIR/env" <<ENV
export MOGR_S3_ENDPOINT=http://127.0.0.1:$BASE_PORT
export MOGR_S3_ENDPOINTS="http://127.0.0.1:$BASE_PORT http://127.0.0.1:$((BASE_PORT + 10)) http://127.0.0.1:$((BASE_PORT + 20))"
export MOGR_S3_REGION=garage
export MOGR_S3_BUCKET=$BUCKET
export MOGR_S3_ACCESS_KEY=$key_id
export MOGR_S3_SECRET_KEY=$secret
export MOGR_GARAGE_DIR=$DIR
ENV
    cat > "$DIR/mogr-store.toml" <<TOML
[store]
kind = "s3"
endpoint = "http://127.0.0.1:$BASE_PORT"
region = "garage"
bucket = "$BUCKET"
access_key = "$key_id"
secret_key = "$secret"
engine_min_part_size = 0   # Garage takes multipart parts of any size
TOML
    sed -e "s/^bucket = .*/bucket = \"$BUCKET-per-bucket\"/" "$DIR/mogr-store.toml" \
        > "$DIR/mogr-store-per-bucket.toml"
    printf 'bucket_mode = "per-bucket"\nbucket_name_prefix = "pb-"\n' \
        >> "$DIR/mogr-store-per-bucket.toml"
    echo "garage: 3 nodes up in $DIR (S3 on 127.0.0.1:$BASE_PORT, :$((BASE_PORT + 10)), :$((BASE_PORT + 20)))"
    echo "source $DIR/env   # MOGR_S3_* for the tests; [store] table in $DIR/mogr-store.toml"
}

stop_nodes() {
    for i in 0 1 2; do
        local pidfile="$DIR/node$i/pid"
        if [ -f "$pidfile" ]; then
            local pid
            pid="$(cat "$pidfile")"
            kill "$pid" 2> /dev/null || true
            # Garage waits for open client connections on SIGTERM: give it 5 s, then kill it.
            for _ in $(seq 1 25); do
                kill -0 "$pid" 2> /dev/null || break
                sleep 0.2
            done
            kill -9 "$pid" 2> /dev/null || true
            rm -f "$pidfile"
        fi
    done
}

case "$cmd" in
    start) start ;;
    stop) stop_nodes; rm -rf "$DIR" ;;
    restart-node) SECRET=""; start_node "${3:?node index}" ;;
    build) build ;;
    *) echo "usage: $0 start|stop|build [DIR]" >&2; exit 2 ;;
esac
