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

