#!/usr/bin/env bash
# Pure-Lua compute (bench/compute/compute.lua): assay against lua5.4 in one run. Target: ratio <= 1.10.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
require_tools lua5.4 hyperfine
here="$(cd "$(dirname "$0")" && pwd)"
out=$(mktemp)
hyperfine -N --warmup 1 --runs "${RUNS:-10}" --export-json "$out" \
  -n assay "$ASSAY $here/compute.lua" -n lua5.4 "lua5.4 $here/compute.lua" >&2
a=$(mean_of "$out" assay); l=$(mean_of "$out" lua5.4)
printf 'compute: assay %.3f s, lua5.4 %.3f s, ratio %s (target <= 1.10)\n' "$a" "$l" "$(ratio "$a" "$l")"
rm -f "$out"
