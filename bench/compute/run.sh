#!/usr/bin/env bash
# Pure Lua, assay against lua5.4 side by side in one run: compute.lua (calls, arithmetic, tables,
# strings; target ratio <= 1.10) and alloc.lua (short-lived closures and small tables: the
# allocator and the collector; target ratio <= 1.03). RUNS=N repetitions each (default 10).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
require_tools lua5.4 hyperfine
here="$(cd "$(dirname "$0")" && pwd)"
for case in compute:1.10 alloc:1.03; do
  name=${case%%:*}; target=${case#*:}
  out=$(mktemp)
  hyperfine -N --warmup 1 --runs "${RUNS:-10}" --export-json "$out" \
    -n assay "$ASSAY $here/$name.lua" -n lua5.4 "lua5.4 $here/$name.lua" >&2
  a=$(mean_of "$out" assay); l=$(mean_of "$out" lua5.4)
  au=$(cpu_of "$out" assay); lu=$(cpu_of "$out" lua5.4)
  printf '%s: assay %.3f s, lua5.4 %.3f s, ratio %s; user+sys CPU %.3f s vs %.3f s, ratio %s (target <= %s)\n' \
    "$name" "$a" "$l" "$(ratio "$a" "$l")" "$au" "$lu" "$(ratio "$au" "$lu")" "$target"
  rm -f "$out"
done
