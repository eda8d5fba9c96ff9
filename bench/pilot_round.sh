#!/usr/bin/env bash
# PAGE's round against FedAvg's in the pilot setup (configs/pilot-fmnist.toml: 20 clients of the
# Fashion-MNIST CNN), FedAvg at PAGE's largest local budget (lr 0.05, 2 epochs) as `make demo`
# runs it; PAGE with the whole server test set and with page.server_score_samples = 500.
# Usage: bench/pilot_round.sh [build-dir]. Prints the mean seconds of rounds 2-4 (round 1 warms
# up the process) and each one's ratio to FedAvg, all measured in this run.
set -euo pipefail
build="${1:-build}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
declare -A seconds
run() {  # run NAME OVERRIDES...
  local name="$1"
  shift
  "$build/pagefl" run -c configs/pilot-fmnist.toml run.rounds=4 run.progress=false run.output_dir="$out" \
    run.name="$name" "$@" > "$out/$name.log"
  seconds[$name]="$(tail -n 3 "$out/$name/timing.jsonl" | sed -E 's/.*"seconds":([0-9.e+-]+).*/\1/' |
    awk '{ s += $1 } END { printf "%.3f", s / NR }')"
}
run fedavg algorithm.name=fedavg train.lr=0.05 train.epochs=2
run page-full
run page-500 page.server_score_samples=500
printf '%-10s %10s %12s\n' run s/round x_fedavg
for name in fedavg page-full page-500; do
  printf '%-10s %10s %12s\n' "$name" "${seconds[$name]}" "$(awk -v a="${seconds[$name]}" -v b="${seconds[fedavg]}" 'BEGIN { printf "%.2f", a / b }')"
done
