#!/usr/bin/env bash
# One simulation over 1, 2 and 4 MPI ranks (issue 17): seconds per round and the bytes a round
# moves, for FedAvg and PAGE on the published Synthetic setup (100 clients, logistic regression)
# and FedAvg on the pilot's Fashion-MNIST CNN (20 clients). One worker per rank, so 4 ranks
# oversubscribe a 2-core machine. `./bench/mpi_ranks.sh [build-dir] [rounds]`
set -euo pipefail
build="${1:-build}"
rounds="${2:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mpirun="mpirun --allow-run-as-root --oversubscribe --bind-to none"

run() {  # label ranks config overrides...
  local label="$1" ranks="$2" config="$3"
  shift 3
  local launcher=""
  [ "$ranks" -gt 1 ] && launcher="$mpirun -np $ranks"
  local log="$out/$label-$ranks.log"
  $launcher "$build/pagefl" run -c "$root/$config" run.workers=1 run.rounds="$rounds" run.progress=false \
    run.output_dir="$out/runs" run.name="$label-$ranks" eval.every=0 "$@" >"$log" 2>&1
  local per_round bytes
  per_round=$(grep -o '[0-9.]* s/round' "$log" | tail -1)
  bytes=$(grep -o 'per round .*' "$log" | tail -1 || true)
  printf '| %s | %s | %s | %s |\n' "$label" "$ranks" "$per_round" "${bytes:-(one process)}"
}

echo "| setup | ranks | time per round | moved (server rank's count) |"
echo "|---|---|---|---|"
# Each setup: 1, 2 and 4 ranks of one worker, then one process with two workers (the same two
# cores used by threads instead of ranks).
for ranks in 1 2 4; do run fedavg-synthetic "$ranks" configs/page-synthetic.toml algorithm.name='"fedavg"'; done
run fedavg-synthetic-W2 1 configs/page-synthetic.toml algorithm.name='"fedavg"' run.workers=2
for ranks in 1 2 4; do run page-synthetic "$ranks" configs/page-synthetic.toml; done
run page-synthetic-W2 1 configs/page-synthetic.toml run.workers=2
for ranks in 1 2 4; do run fedavg-pilot-cnn "$ranks" configs/pilot-fmnist.toml algorithm.name='"fedavg"'; done
run fedavg-pilot-cnn-W2 1 configs/pilot-fmnist.toml algorithm.name='"fedavg"' run.workers=2

# What each rank holds: peak resident memory of every rank for one round of the pilot's
# Fashion-MNIST federation, all 60,000 training samples, cut into 64 clients (4 aggregation blocks, so 2 and 4 ranks own equal
# shares), against one process reading everything. Each rank reads only its clients' samples.
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
    grep -o 'rank [0-9]*: [0-9]* local samples' "$log" | sort | awk '{print $3}') | paste -sd/ -)
  peaks=$(grep -o 'peak-rss-kb [0-9]*' "$log" | awk '{printf "%s%.0f", (NR>1?" / ":""), $2/1024}')
  printf '| %s | %s | %s |\n' "$ranks" "$samples" "$peaks"
}
echo
echo "| ranks | local samples read (rank 0 / others) | peak RSS per rank, MiB |"
echo "|---|---|---|"
for ranks in 1 2 4; do peak "$ranks"; done
