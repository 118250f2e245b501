#!/usr/bin/env bash
# json.encode / json.parse of a ~20 KB document: assay against lua5.4 + lua-cjson, side by side in
# one run. Prints ops/s for each and the ratio ours/cjson. Targets: parse >= 1.0 (issue 21), encode >= 0.5.
# ITERATIONS (default 3000) sets the loop count; ASSAY the binary (default dist/assay).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
require_tools lua5.4 lua-cjson
here="$(cd "$(dirname "$0")" && pwd)"
n="${ITERATIONS:-3000}"

ours=$("$ASSAY" "$here/bench.lua" "$n")
theirs=$(lua5.4 "$here/bench.lua" "$n")
field() { awk -v k="$2" '$1 == k { print $2 }' <<<"$1"; }

printf 'document: %s bytes (assay), %s bytes (cjson), %s iterations\n' \
  "$(field "$ours" bytes)" "$(field "$theirs" bytes)" "$n"
for op in encode parse; do
  a=$(field "$ours" "$op"); c=$(field "$theirs" "$op")
  target=0.5; [ "$op" = parse ] && target=1.0
  awk -v op="$op" -v a="$a" -v c="$c" -v t="$target" 'BEGIN {
    printf "json.%-6s assay %8.0f ops/s   cjson %8.0f ops/s   ratio %.2f (target >= %.1f)\n", op, a, c, a / c, t }'
done
