# Shared helpers for bench/*/run.sh: tool checks and hyperfine result parsing.
ASSAY="${ASSAY:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/dist/assay}"

require_tools() {
  local missing=()
  for pkg in "$@"; do
    case "$pkg" in
      lua5.4) command -v lua5.4 >/dev/null || missing+=(lua5.4) ;;
      hyperfine) command -v hyperfine >/dev/null || missing+=(hyperfine) ;;
      lua-cjson) lua5.4 -e 'require "cjson"' 2>/dev/null || missing+=(lua-cjson) ;;
    esac
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing ${missing[*]}" >&2
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -x "$ASSAY" ] || { echo "no binary at $ASSAY: run ./build.sh first" >&2; exit 1; }
}

# mean_of FILE NAME -> the mean seconds of the hyperfine result called NAME (parsed by assay itself)
mean_of() {
  "$ASSAY" -e '
    local f = assert(io.open(arg[1])); local doc = json.parse(f:read("a")); f:close()
    for _, r in ipairs(doc.results) do if r.command == arg[2] then print(r.mean) return end end
    error("no result named " .. arg[2])' "$1" "$2"
}

# cpu_of FILE NAME -> mean user+sys seconds of that result (steadier than wall time under load)
cpu_of() {
  "$ASSAY" -e '
    local f = assert(io.open(arg[1])); local doc = json.parse(f:read("a")); f:close()
    for _, r in ipairs(doc.results) do if r.command == arg[2] then print(r.user + r.system) return end end
    error("no result named " .. arg[2])' "$1" "$2"
}

ratio() { "$ASSAY" -e 'print(string.format("%.2f", tonumber(arg[1]) / tonumber(arg[2])))' "$1" "$2"; }
