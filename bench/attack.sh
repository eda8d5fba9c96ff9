#!/usr/bin/env bash
# The attack table of bench/RESULTS.md ("Trust"): the pilot setup (configs/pilot-fmnist.toml, FedAvg) with 10 sites,
# one of which (client 3) poisons every update, scaled x10 or sign-flipped, under each of the
# server's rules. Prints the final G->S and P->L of each run next to the clean run.
# Usage: ./bench/attack.sh [build-dir]  (about 15 minutes on 2 cores)
set -euo pipefail
build="${1:-build}"
out="bench/out/attack"
mkdir -p "$out"
base=(--config configs/pilot-fmnist.toml algorithm.name=fedavg partition.num_clients=10 "run.output_dir=\"$out\"")

final() {  # the last evaluated round's G->S and mean P->L accuracy, in percent
  local dir="$out/$1"
  local line
  line=$(tail -n 1 "$dir/rounds.jsonl")
  local g2s p2l
  g2s=$(grep -o '"g2s":{"acc":[0-9.e-]*' <<<"$line" | grep -o '[0-9.e-]*$')
  p2l=$(grep -o '"p2l":{[^}]*"mean":[0-9.e-]*' <<<"$line" | grep -o '[0-9.e-]*$')
  awk -v g="$g2s" -v p="$p2l" 'BEGIN { printf "%6.2f  %6.2f", 100 * g, 100 * p }'
}

run() {  # name, overrides...
  local name=$1
  shift
  if [ ! -f "$out/$name/summary.json" ]; then
    rm -rf "$out/$name"
    "$build/pagefl" run "${base[@]}" "run.name=\"$name\"" "$@" > "$out/$name.log" 2>&1
  fi
}

run clean
for attack in scale sign-flip; do
  for rule in mean median trimmed-mean krum clip; do
    if [ "$rule" = clip ]; then defence=(robust.norm_factor=2); else defence=("robust.rule=\"$rule\""); fi
    run "$attack-$rule" attack.clients=[3] "attack.kind=\"$attack\"" attack.scale=10 "${defence[@]}"
  done
done

printf "%-22s  %6s  %6s\n" run "G->S" "P->L"
printf "%-22s  %s\n" clean "$(final clean)"
for attack in scale sign-flip; do
  for rule in mean median trimmed-mean krum clip; do
    printf "%-22s  %s\n" "$attack-$rule" "$(final "$attack-$rule")"
  done
done
