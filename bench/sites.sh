#!/usr/bin/env bash
# Many sites on one machine: PAGE with logistic regression over N sites (half sampled per round),
# deployed on loopback (plaintext) against the simulator on the same config; seconds per round,
# the server's and one site's peak memory, and whether the metrics files are equal.
# `./bench/sites.sh [build-dir] [sites] [rounds]`.
set -euo pipefail
build="$(realpath "${1:-build}")"
sites="${2:-16}"
rounds="${3:-20}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
port=$((50000 + RANDOM % 10000))
names=$(python3 -c "print(','.join(f'\"client_{i}\"' for i in range($sites)))")
cat > sites.toml <<TOML
[run]
name = "deployed"
rounds = $rounds
progress = false
output_dir = "$work/runs"
[data]
source = "synthetic"
[synthetic]
num_clients = $sites
dimension = 60
classes = 10
samples_per_client = 300
[partition]
scheme = "natural"
[model]
name = "logreg"
[train]
lr = 0.05
epochs = 2
batch_size = 10
[algorithm]
name = "page"
participation = 0.5
[deploy]
listen = "127.0.0.1:$port"
tls = false
min_clients = $sites
clients = [$names]
TOML
"$build/pagefl" partition --config sites.toml --export-leaf leaf > /dev/null
"$build/pagefl" run --config sites.toml run.name=simulated run.batched_clients=off > simulated.log 2>&1
"$build/pagefl" server --config sites.toml > server.log 2>&1 &
server=$!
for ((i = 0; i < sites; i++)); do
  "$build/pagefl" client --server "127.0.0.1:$port" --id "client_$i" --data leaf --state "state-$i" --insecure \
    > "site-$i.log" 2>&1 &
  [ $i -eq 0 ] && site=$!
done
# A site's peak resident memory (VmHWM), read while it runs.
while kill -0 "$site" 2>/dev/null; do
  grep VmHWM "/proc/$site/status" 2>/dev/null | awk '{print $2}' > site.rss.tmp && mv site.rss.tmp site.rss || true
  sleep 0.5
done
wait $server
wait
python3 - "$sites" "$rounds" <<'PY'
import json, sys
sites, rounds = sys.argv[1], sys.argv[2]
def per_round(run):
    rows = [json.loads(line)["seconds"] for line in open(f"runs/{run}/timing.jsonl")][1:]
    return sum(rows) / len(rows)
sim, dep = per_round("simulated"), per_round("deployed")
same = open("runs/simulated/rounds.jsonl").read() == open("runs/deployed/rounds.jsonl").read()
print(f"PAGE, logistic regression, {sites} sites (half per round), {rounds} rounds")
print(f"simulator (1 worker)      {sim:.3f} s/round")
print(f"loopback, plaintext       {dep:.3f} s/round  ({dep / sim:.2f}x)")
server_mb = max(json.loads(line)["peak_rss_mb"] for line in open("runs/deployed/timing.jsonl"))
site_mb = int(open("site.rss").read()) / 1024
print(f"peak memory: server {server_mb:.0f} MB, one site {site_mb:.0f} MB")
print(f"deployed metrics equal the simulator's: {'yes' if same else 'NO'}")
PY
