#!/usr/bin/env bash
# The cost of the network: seconds per round of the Fashion-MNIST CNN over 4 sites, deployed on
# loopback (one server and four client processes, plaintext and mutual TLS) against the in-process
# simulator on the same config, partition and seed. `./bench/transport.sh [build-dir] [rounds]`.
# All runs use the same 2 cores: the simulator with 2 workers, each site process with 1 thread.
# Two workloads: the deploy config's 4,000 training images (training dominates), and 400 (the
# round is mostly transport and the server's evaluation, so the network's share shows).
set -euo pipefail
build="$(realpath "${1:-build}")"
rounds="${2:-6}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
config="$root/configs/deploy-fmnist.toml"
port=$((50000 + RANDOM % 10000))
"$root/scripts/make-certs.sh" certs localhost client_0 client_1 client_2 client_3 > /dev/null

seconds_per_round() {  # mean of timing.jsonl's seconds, first round excluded (start-up)
  python3 - "$1/timing.jsonl" <<'PY'
import json, sys
rows = [json.loads(line)["seconds"] for line in open(sys.argv[1])][1:]
print(f"{sum(rows) / len(rows):.3f}")
PY
}

deploy() {  # deploy NAME TLS-FLAG: server and four sites; prints the run directory
  local name=$1 tls=$2 client_tls=()
  if [ "$tls" = true ]; then
    client_tls=(--ca certs/ca.pem)
  else
    client_tls=(--insecure)
  fi
  "$build/pagefl" server --config "$config" "${common[@]}" "run.name=$name" "deploy.listen=127.0.0.1:$port" \
    "deploy.tls=$tls" > "$name-server.log" 2>&1 &
  local server=$!
  for i in 0 1 2 3; do
    local keys=()
    [ "$tls" = true ] && keys=(--cert "certs/client_$i.pem" --key "certs/client_$i.key")
    "$build/pagefl" client --server "localhost:$port" --id "client_$i" --data sites --state "state-$images-$name-$i" \
      "${client_tls[@]}" "${keys[@]}" > "$name-client-$i.log" 2>&1 &
  done
  wait $server
  wait
  port=$((port + 1))
}

echo "FMNIST CNN, 4 sites, FedAvg, $rounds rounds, $(nproc) cores, $(date -u +%F)"
for images in 4000 400; do
  common=("run.rounds=$rounds" "run.output_dir=$work/runs-$images" "algorithm.name=fedavg" "data.train_subset=$images")
  rm -rf sites && "$build/pagefl" partition --config "$config" --export-leaf sites "${common[@]}" > /dev/null
  "$build/pagefl" run --config "$config" "${common[@]}" run.name=simulated run.workers=2 run.batched_clients=off > simulated.log 2>&1
  deploy plaintext false
  deploy tls true
  runs="runs-$images"
  sim=$(seconds_per_round "$runs/simulated")
  plain=$(seconds_per_round "$runs/plaintext")
  tls=$(seconds_per_round "$runs/tls")
  same=$(cmp -s "$runs/simulated/rounds.jsonl" "$runs/tls/rounds.jsonl" && echo yes || echo NO)
  echo "$images training images:"
  echo "  simulator (2 workers)      $sim s/round"
  echo "  loopback, plaintext        $plain s/round  ($(python3 -c "print(f'{$plain/$sim:.2f}')")x the simulator)"
  echo "  loopback, mutual TLS       $tls s/round  ($(python3 -c "print(f'{$tls/$sim:.2f}')")x the simulator)"
  echo "  deployed metrics equal the simulator's: $same"
done
