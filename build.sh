#!/usr/bin/env bash
# Builds the single-file NativeAOT binary dist/assay (Lua 5.4 linked in statically).
# Usage: ./build.sh            (installs missing Debian build packages first)
set -euo pipefail
cd "$(dirname "$0")"

need=()
[ -f /usr/lib/x86_64-linux-gnu/liblua5.4.a ] || need+=(liblua5.4-dev)
command -v gcc >/dev/null || need+=(gcc)
command -v clang >/dev/null || command -v gcc >/dev/null || need+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
[ -f /usr/lib/x86_64-linux-gnu/libsqlite3.a ] || need+=(libsqlite3-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "build.sh: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet publish src/Assay.Cli/Assay.Cli.csproj -c Release -r linux-x64 -o dist/.publish -nologo -v quiet "$@"
mkdir -p dist
# rename over the old binary: works even while a previous build is still running
cp dist/.publish/assay dist/assay.new && mv -f dist/assay.new dist/assay
rm -rf dist/.publish
echo "built dist/assay ($(du -h dist/assay | cut -f1))"
