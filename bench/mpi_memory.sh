#!/usr/bin/env bash
# What each rank of a sharded simulation holds (issue 17): peak resident memory of every rank for
# one round of FedAvg on the pilot's Fashion-MNIST CNN with all 60,000 training samples cut into
# 64 clients (4 aggregation blocks, so 2 and 4 ranks own equal shares), against one process
# reading everything. Each rank reads only its clients' samples. `./bench/mpi_memory.sh [build-dir]`
set -euo pipefail
build="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mpirun="mpirun --allow-run-as-root --oversubscribe --bind-to none"
peak() {  # ranks
  local ranks="$1" launcher=""
  [ "$ranks" -gt 1 ] && launcher="$mpirun -np $ranks"
  local log="$out/peak-$ranks.log"
  $launcher /usr/bin/time -f "peak-rss-kb %M" "$build/pagefl" run -c "$root/configs/pilot-fmnist.toml" \
    algorithm.name='"fedavg"' data.train_subset=0 data.test_subset=0 partition.num_clients=64 \
    algorithm.participation=0.1 run.workers=1 run.rounds=1 run.progress=false \
    run.output_dir="$out/runs" run.name="peak-$ranks" eval.every=0 >"$log" 2>&1
  local samples peaks
  samples=$( (grep -o 'clients, [0-9]* local samples' "$log" | awk '{print $2}'
    grep -o 'rank [0-9]*: [0-9]* local samples' "$log" | sort | awk '{print $3}' || true) | paste -sd/ -)
  peaks=$(grep -o 'peak-rss-kb [0-9]*' "$log" | awk '{printf "%s%.0f", (NR>1?" / ":""), $2/1024}')
  printf '| %s | %s | %s |\n' "$ranks" "$samples" "$peaks"
}
echo "| ranks | local samples read (rank 0 / others) | peak RSS per rank, MiB |"
echo "|---|---|---|"
for ranks in 1 2 4; do peak "$ranks"; done
