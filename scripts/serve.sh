#!/usr/bin/env bash
# Installs what the machine lacks, builds mogr in release mode and runs `mogr serve`.
#
# Defaults: listen on 127.0.0.1:9000, data under ./data (relative to the repository).
# Override with MOGR_LISTEN / MOGR_DATA, or pass any `mogr serve` flag after the script name,
# e.g. `scripts/serve.sh --secret-id AKID... --secret-key ...`. Without credentials the server
# generates a key pair once, stores it under the data folder and prints it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cargo build --release -p mogr

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

args=(serve)
# Only add a default when the caller did not pass that flag, so clap never sees it twice.
[[ " $* " == *" --listen"* ]] || args+=(--listen "${MOGR_LISTEN:-127.0.0.1:9000}")
[[ " $* " == *" --data"* ]] || args+=(--data "${MOGR_DATA:-./data}")

exec "$target_dir/release/mogr" "${args[@]}" "$@"
