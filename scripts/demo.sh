#!/usr/bin/env bash
# The demo: rivuletd on examples/demo.yaml (built-in generator), results printed as they are
# published. Ctrl-C stops both; the daemon then publishes its open windows as "partial".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target rivuletd rivulet-sub >/dev/null
bin=build/release/daemon
config="${1:-examples/demo.yaml}"

# Own session: the Ctrl-C meant for rivulet-sub must not reach the daemon twice.
setsid "$bin/rivuletd" --config "$config" &
daemon=$!
trap 'kill -INT $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT
echo "rivuletd running (pid $daemon); metrics: curl -s 127.0.0.1:9464/metrics | grep ^rivulet_" >&2
echo "results (Ctrl-C to stop):" >&2
"$bin/rivulet-sub" tcp://127.0.0.1:5556 || true
