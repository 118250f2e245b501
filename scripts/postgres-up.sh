#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL cluster for the engine tests and print its URL.
#
# Idempotent: a second run finds the running cluster (state in $ASSAY_PG_DIR) and prints the
# same URL. Installs Debian's `postgresql` when initdb/pg_ctl are missing (fresh CI machines).
# initdb refuses to run as root, so the cluster belongs to the `postgres` system user.
# ASSAY_PG_DURABLE=1 starts the cluster with PostgreSQL's default durability (fsync, synchronous_commit and
# full_page_writes on) instead of the test settings; bench/engine/postgres.sh uses it for honest figures.
# The last line of stdout is always the connection URL; everything else goes to stderr.
set -euo pipefail

PG_DIR="${ASSAY_PG_DIR:-/tmp/assay-test-pg}"
DB_NAME="${ASSAY_PG_DB:-assay_test}"

find_bin() {
  local name=$1 dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  command -v "$name" 2>/dev/null || return 1
}

if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
  echo "postgres-up: installing postgresql with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
BIN_DIR=$(dirname "$PG_CTL")

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

mkdir -p "$PG_DIR"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"

if [ -f "$PG_DIR/port" ] && as_pg "$PG_CTL" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  PORT=$(cat "$PG_DIR/port")
else
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_pg "$INITDB" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >&2
  fi
  # A free port picked by the kernel; tiny race window with other processes is acceptable here.
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000)))
  echo "$PORT" > "$PG_DIR/port"
  # Test cluster: durability off for speed, enough connections for parallel test classes.
  DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${ASSAY_PG_DURABLE:-0}" = 1 ] && DURABILITY=""
  as_pg "$PG_CTL" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $PORT -k $PG_DIR -c max_connections=300 $DURABILITY" >&2
fi

if ! as_pg "$BIN_DIR/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" postgres | grep -q 1; then
  as_pg "$BIN_DIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB_NAME" >&2
fi

echo "postgres://postgres@127.0.0.1:$PORT/$DB_NAME"
