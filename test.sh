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
command -v node >/dev/null || need+=(nodejs)   # runs s3rver, the S3 emulator of the s3 module's tests
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# npm servers the Lua tests start, pinned by package-lock.json files: s3rver (tests/tools) and
# unleash-server (tests/tools/unleash; 7.5 needs Node.js 20 or later); installed when missing or
# older than their lock file
for tools in tests/tools tests/tools/unleash; do
  if ! [ $tools/node_modules/.package-lock.json -nt $tools/package-lock.json ]; then
    echo "== test tools (npm ci in $tools)"
    (cd $tools && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

echo "== build (NativeAOT)"
./build.sh

echo "== PostgreSQL"
ASSAY_TEST_POSTGRES_URL="$(scripts/postgres-up.sh | tail -1)"
export ASSAY_TEST_POSTGRES_URL
echo "using $ASSAY_TEST_POSTGRES_URL"

# A test that hangs for 10 minutes is stopped and named (--blame-hang-timeout) instead of eating the CI budget.
# The xunit suites and the Lua test files run side by side (each also runs its own files in
# parallel); every stage runs even when another fails, so one run shows every failure.
logs=$(mktemp -d)
echo "== xunit and Lua tests (dist/assay test), side by side"
# (set -e holds in the subshells too: "|| rc=$?" keeps a failing stage from ending its subshell before the code is written.)
( rc=0; dotnet test Assay.slnx -nologo -v quiet --blame-hang-timeout 10m --blame-hang-dump-type none --logger "console;verbosity=minimal" >"$logs/xunit" 2>&1 || rc=$?; echo $rc >"$logs/xunit.rc" ) &
( rc=0; ./dist/assay test -j 3 tests/lua >"$logs/lua" 2>&1 || rc=$?; echo $rc >"$logs/lua.rc" ) &
wait

status=0
echo "== xunit"; cat "$logs/xunit"; [ "$(cat "$logs/xunit.rc")" = 0 ] || status=1
echo "== Lua tests"; cat "$logs/lua"; [ "$(cat "$logs/lua.rc")" = 0 ] || status=1
rm -rf "$logs"

[ $status -eq 0 ] && echo "== all tests passed" || echo "== some tests FAILED"
exit $status
