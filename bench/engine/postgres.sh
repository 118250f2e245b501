#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the engine benchmark, with PostgreSQL's DEFAULT durability (fsync,
# synchronous_commit and full_page_writes on) — unlike the test cluster of scripts/postgres-up.sh, which turns them
# off. Its own data directory and port, so it never touches the test cluster. Prints the server's URL last.
#   bench/engine/postgres.sh          start (or reuse) it
#   bench/engine/postgres.sh stop     stop it and delete its data directory
# Use: bench/engine/run.sh --postgres "$(bench/engine/postgres.sh | tail -1)"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export ASSAY_PG_DIR="${ASSAY_BENCH_PG_DIR:-/tmp/assay-bench-pg}"
if [ "${1:-}" = stop ]; then
  pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -1)
  if [ -f "$ASSAY_PG_DIR/data/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pg_ctl" -D "$ASSAY_PG_DIR/data" -m fast stop >&2 || true
    else "$pg_ctl" -D "$ASSAY_PG_DIR/data" -m fast stop >&2 || true; fi
  fi
  rm -rf "$ASSAY_PG_DIR"
  exit 0
fi
# The bench creates (and drops) a fresh database per run; this one is only the maintenance database it connects to.
ASSAY_PG_DURABLE=1 ASSAY_PG_DB=postgres exec "$here/../../scripts/postgres-up.sh"
