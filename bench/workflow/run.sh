#!/usr/bin/env bash
# Lua workers benchmark: two-activity workflows, two `assay` worker processes, SQLite engine.
# Usage: bench/workflow/run.sh [WORKFLOWS=2000] [LATENCY_RUNS=50]   (ASSAY=path/to/assay; EAGER=0: no eager dispatch;
#        EAGER_WF=0: no eager workflow tasks)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${ASSAY:-$here/../../dist/assay}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
dir=$(mktemp -d)
port=$((20000 + RANDOM % 12000)) # below the ephemeral port range (32768+)
export ENGINE_URL=http://127.0.0.1:$port
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
"$bin" serve --port "$port" --backend "$dir/wf.db" >"$dir/serve.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -fs "$ENGINE_URL/api/v1/health" >/dev/null 2>&1 && break; sleep 0.05; done
cp "$here/worker.lua" "$here/driver.lua" "$dir/"
for i in 1 2; do (cd "$dir" && exec "$bin" worker.lua >"$dir/worker$i.log" 2>&1) & pids+=($!); done
sleep 0.5
echo "assay: $bin; $(nproc) CPUs; engine SQLite; 2 Lua worker processes"
(cd "$dir" && PIDS="${pids[*]}" CPUS=$(nproc) "$bin" driver.lua "${1:-2000}" "${2:-50}")
