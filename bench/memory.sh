#!/usr/bin/env bash
# Resident memory of FedAvg and Ditto with 100 and 1,000 clients of the Fashion-MNIST CNN (issue 4):
# one round on all 60,000 training images, IID so every client has data. FedAvg keeps nothing per
# client, so its memory must not grow with the client count; Ditto keeps a personal model each.
# Usage: bench/memory.sh [build-dir]. Prints one line per run from its timing.jsonl.
set -euo pipefail
build="${1:-build}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-8s %8s %16s %14s %10s\n' algorithm clients client_state_MB peak_RSS_MB seconds
for algorithm in fedavg ditto; do
  for clients in 100 1000; do
    "$build/pagefl" run -c configs/fmnist-demo-setup.toml algorithm.name=$algorithm partition.scheme=iid \
      partition.num_clients=$clients data.train_subset=0 data.test_subset=2000 run.rounds=1 run.workers=2 \
      run.progress=false run.output_dir="$out" run.name="$algorithm-$clients" > "$out/$algorithm-$clients.log"
    last="$(tail -n 1 "$out/$algorithm-$clients/timing.jsonl")"
    field() { sed -E "s/.*\"$1\":([0-9.e+-]+).*/\1/" <<< "$last"; }
    printf '%-8s %8s %16.1f %14.1f %10.1f\n' $algorithm $clients "$(field client_state_mb)" "$(field peak_rss_mb)" \
      "$(field seconds)"
  done
done
