#!/usr/bin/env bash
# hello-JSON under `wrk -t2 -c64`: assay (a Lua handler in http.serve) side by side with
# nginx + its Lua module (Debian libnginx-mod-http-lua, 2 workers) and a bare Kestrel endpoint
# (bench/http/kestrel, NativeAOT). Prints req/s for each and the ratios. Target: assay >= 0.6x nginx+Lua.
# DURATION (default 10s) per run; ASSAY the binary (default dist/assay).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
here="$(cd "$(dirname "$0")" && pwd)"
duration="${DURATION:-10s}"

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
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
  for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$1/" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server on port $1 did not come up" >&2; exit 1
}

bench() { # bench PORT -> req/s
  wrk -t2 -c64 -d2s "http://127.0.0.1:$1/" >/dev/null # warm-up
  wrk -t2 -c64 -d"$duration" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ { print $2 }'
}

# --- bare Kestrel (built once, NativeAOT)
kbin="$here/kestrel/bin/publish/KestrelHello"
if [ ! -x "$kbin" ] || [ "$here/kestrel/Program.cs" -nt "$kbin" ]; then
  echo "building the Kestrel baseline (NativeAOT)…" >&2
  dotnet publish "$here/kestrel/KestrelHello.csproj" -c Release -r linux-x64 -o "$here/kestrel/bin/publish" -nologo -v quiet >&2
fi

# --- nginx + Lua, 2 workers, config in a temp dir, non-daemon child
nport=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<CONF
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
    listen 127.0.0.1:$nport;
    location / {
      default_type application/json;
      content_by_lua_block {
        ngx.print('{"message":"Hello, World!"}')
      }
    }
  }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_port "$nport"
nginx_rps=$(bench "$nport")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

kport=$(free_port)
"$kbin" "$kport" &
pids+=($!)
wait_port "$kport"
kestrel_rps=$(bench "$kport")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

aport=$(free_port)
"$ASSAY" "$here/hello.lua" "$aport" &
pids+=($!)
wait_port "$aport"
assay_rps=$(bench "$aport")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

awk -v a="$assay_rps" -v n="$nginx_rps" -v k="$kestrel_rps" -v d="$duration" 'BEGIN {
  printf "hello-JSON, wrk -t2 -c64 -d%s, 127.0.0.1\n", d
  printf "  nginx + Lua (2 workers)  %10.0f req/s\n", n
  printf "  bare Kestrel             %10.0f req/s\n", k
  printf "  assay http.serve (Lua)   %10.0f req/s\n", a
  printf "  assay / nginx+Lua  %.2f (target >= 0.6)\n", a / n
  printf "  assay / Kestrel    %.2f\n", a / k
}'
