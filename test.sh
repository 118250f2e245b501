#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests need, builds the
# NativeAOT binary, starts a throwaway PostgreSQL, then runs the xunit suites (embedding, event
# loop, engine on SQLite and PostgreSQL) and the Lua test files through the real binary.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
[ -f /usr/lib/x86_64-linux-gnu/liblua5.4.a ] || need+=(liblua5.4-dev)
command -v gcc >/dev/null || need+=(gcc)
[ -x /usr/bin/chromium ] || need+=(chromium)   # dashboard browser tests (Playwright drives Debian's chromium)
command -v python3 >/dev/null || need+=(python3)
command -v prometheus >/dev/null || need+=(prometheus)   # a real server for the prometheus checks
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)   # a real server for the alertmanager module
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== build (NativeAOT)"
./build.sh

echo "== PostgreSQL"
ASSAY_TEST_POSTGRES_URL="$(scripts/postgres-up.sh | tail -1)"
export ASSAY_TEST_POSTGRES_URL
echo "using $ASSAY_TEST_POSTGRES_URL"

# Every stage runs even when an earlier one failed, so one run shows every failure.
status=0
echo "== xunit"
dotnet test Assay.slnx -nologo -v quiet --logger "console;verbosity=minimal" || status=1

echo "== Lua tests (dist/assay test)"
./dist/assay test tests/lua || status=1

[ $status -eq 0 ] && echo "== all tests passed" || echo "== some tests FAILED"
exit $status
