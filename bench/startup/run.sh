#!/usr/bin/env bash
# Cold start: `assay -e ''` against `lua5.4 -e ''`, side by side in one run. Target: ratio <= 4.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
require_tools lua5.4 hyperfine
out=$(mktemp)
hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-json "$out" \
  -n assay "$ASSAY -e ''" -n lua5.4 "lua5.4 -e ''" >&2
a=$(mean_of "$out" assay); l=$(mean_of "$out" lua5.4)
printf 'cold start: assay %.2f ms, lua5.4 %.2f ms, ratio %s (target <= 4)\n' \
  "$(echo "$a*1000" | bc -l)" "$(echo "$l*1000" | bc -l)" "$(ratio "$a" "$l")"
rm -f "$out"
