#!/usr/bin/env bash
# Runs every fuzz harness for SECONDS each from the seed corpus in fuzz/corpus, on a copy of it
# (what a run learns stays in the build directory). A finding stops the script with the harness
# and the input that reproduces it.
# Usage: fuzz/run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1
seconds=$2
here="$(cd "$(dirname "$0")" && pwd)"
for harness in idx cifar leaf jpeg config wire archive; do
  work="$build/corpus/$harness"
  mkdir -p "$work" "$build/findings"
  cp -n "$here/corpus/$harness"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $harness for ${seconds}s"
  # A single allocation over 256 MB from an input of at most 64 KiB is a finding, as is a leak.
  if ! ASAN_OPTIONS=detect_leaks=1 "$build/${harness}_fuzz" -max_total_time="$seconds" -max_len=65536 \
      -malloc_limit_mb=256 -rss_limit_mb=3072 -timeout=20 -print_final_stats=1 \
      -artifact_prefix="$build/findings/${harness}-" "$work" > "$build/${harness}.log" 2>&1; then
    tail -40 "$build/${harness}.log"
    echo "fuzz: $harness found a defect; the input is in $build/findings/"
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$build/${harness}.log" | tr '\n' ' '
  echo
done
echo "fuzz: every harness ran ${seconds}s without a finding"
