#!/usr/bin/env bash
# hello-JSON under `wrk -t2 -c64`: assay (a Lua handler in http.serve) side by side with nginx +
# its Lua module (Debian libnginx-mod-http-lua, 2 workers) and a bare Kestrel endpoint
# (bench/http/kestrel, NativeAOT). All servers run at once; compare.py runs ROUNDS interleaved
# rounds (order rotating) and prints req/s, server CPU per request and per-round ratios.
# Target: assay >= 0.9x nginx+Lua.
# DURATION (default 5s) per run; ROUNDS (default 3); ASSAY the binary (default dist/assay);
# ASSAY_BASE a second binary to run beside it (before/after comparisons).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
here="$(cd "$(dirname "$0")" && pwd)"
duration="${DURATION:-5s}"
rounds="${ROUNDS:-3}"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || need+=(libnginx-mod-http-lua)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${need[*]}" >&2
  $sudo apt-get update -qq && $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x "$ASSAY" ] || { echo "no binary at $ASSAY: run ./build.sh first" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- bare Kestrel (built once, NativeAOT)
kbin="$here/kestrel/bin/publish/KestrelHello"
if [ ! -x "$kbin" ] || [ "$here/kestrel/Program.cs" -nt "$kbin" ]; then
  echo "building the Kestrel baseline (NativeAOT)…" >&2
  dotnet publish "$here/kestrel/KestrelHello.csproj" -c Release -r linux-x64 -o "$here/kestrel/bin/publish" -nologo -v quiet >&2
fi

# --- nginx + Lua, 2 workers, config in a temp dir (port filled in by compare.py), non-daemon child
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf.in" <<CONF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:NGINX_PORT;
    location / {
      default_type application/json;
      content_by_lua_block {
        ngx.print('{"message":"Hello, World!"}')
      }
    }
  }
}
CONF
nginx_cmd="sed s/NGINX_PORT/{port}/ $tmp/nginx/nginx.conf.in > $tmp/nginx/nginx.conf && exec nginx -p $tmp/nginx -c $tmp/nginx/nginx.conf"

contenders=(
  "ref:nginx+Lua=$nginx_cmd"
  "ref:Kestrel=exec $kbin {port}"
  "assay=exec $ASSAY $here/hello.lua {port}"
)
if [ -n "${ASSAY_BASE:-}" ]; then contenders+=("assay (base)=exec $ASSAY_BASE $here/hello.lua {port}"); fi
python3 "$here/compare.py" "$duration" "$rounds" "${contenders[@]}"
