#!/usr/bin/env bash
# Cold start: `assay -e ''` against `lua5.4 -e ''`, side by side in one run. Target (issue 21): ratio <= 2.5.
# Prints the wall-time ratio and the user+sys CPU ratio (steadier when other work loads the machine).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
require_tools lua5.4 hyperfine
out=$(mktemp)
hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-json "$out" \
  -n assay "$ASSAY -e ''" -n lua5.4 "lua5.4 -e ''" >&2
a=$(mean_of "$out" assay); l=$(mean_of "$out" lua5.4)
ac=$(cpu_of "$out" assay); lc=$(cpu_of "$out" lua5.4)
printf 'cold start: assay %.2f ms, lua5.4 %.2f ms, ratio %s; user+sys CPU %.2f ms vs %.2f ms, ratio %s (target <= 2.5)\n' \
  "$(echo "$a*1000" | bc -l)" "$(echo "$l*1000" | bc -l)" "$(ratio "$a" "$l")" \
  "$(echo "$ac*1000" | bc -l)" "$(echo "$lc*1000" | bc -l)" "$(ratio "$ac" "$lc")"
rm -f "$out"
