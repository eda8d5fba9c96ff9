#!/usr/bin/env bash
# Resident memory of FedAvg and Ditto with many clients of the Fashion-MNIST CNN: one round on
# all 60,000 training images, IID so every client has data. FedAvg keeps nothing per client, so its
# memory must not grow with the client count; Ditto keeps a 2.3 MB personal model each, so at
# 10,000 clients it keeps at most run.state_memory_mb = 1024 in memory and spills the rest to disk.
# Usage: bench/memory.sh [build-dir]. Prints one line per run from its timing.jsonl.
set -euo pipefail
build="${1:-build}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-8s %8s %10s %16s %18s %14s %10s\n' algorithm clients budget_MB client_state_MB in_memory_MB peak_RSS_MB seconds
measure() {  # measure ALGORITHM CLIENTS BUDGET_MB
  local name="$1-$2-$3"
  "$build/pagefl" run -c configs/fmnist-demo-setup.toml algorithm.name=$1 partition.scheme=iid \
    partition.num_clients=$2 partition.min_size=1 data.train_subset=0 data.test_subset=2000 run.rounds=1 run.workers=2 \
    run.state_memory_mb=$3 run.spill_dir="$out/spill" run.progress=false run.output_dir="$out" run.name="$name" \
    > "$out/$name.log"
  last="$(tail -n 1 "$out/$name/timing.jsonl")"
  field() { sed -E "s/.*\"$1\":([0-9.e+-]+).*/\1/" <<< "$last"; }
  printf '%-8s %8s %10s %16.1f %18.1f %14.1f %10.1f\n' $1 $2 $3 "$(field client_state_mb)" \
    "$(field client_state_in_memory_mb)" "$(field peak_rss_mb)" "$(field seconds)"
}
measure fedavg 100 0
measure fedavg 1000 0
measure ditto 100 0
measure ditto 1000 0
measure ditto 1000 1024
measure ditto 10000 1024
