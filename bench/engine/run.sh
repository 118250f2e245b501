#!/usr/bin/env bash
# Workflow engine benchmark: builds the Release bench program and runs it (SQLite, or --postgres URL; see postgres.sh).
# Usage: bench/engine/run.sh [--workflows N] [--latency-runs N] [--workers N] [--dir DIR] [--synchronous MODE]
#                            [--engine-url URL] [--no-eager] [--no-eager-workflow] [--typed] [--postgres URL]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here/Assay.Engine.Bench.csproj" -c Release -nologo -v quiet >&2
exec dotnet "$here/bin/Release/net10.0/Assay.Engine.Bench.dll" "$@"
