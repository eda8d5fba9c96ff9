#!/usr/bin/env bash
# Runs every pagefl benchmark: `./bench/run.sh [build-dir]` (or `make bench`).
set -euo pipefail
build="${1:-build}"
"$build/bench/pagefl_bench" --benchmark_counters_tabular=true
"$(dirname "$0")/pilot_round.sh" "$build"
"$(dirname "$0")/memory.sh" "$build"
"$(dirname "$0")/transport.sh" "$build"
"$(dirname "$0")/sites.sh" "$build"
node "$(dirname "$0")/dashboard_load.mjs" "$build"
"$(dirname "$0")/mpi_ranks.sh" "$build"
"$(dirname "$0")/mpi_memory.sh" "$build"
