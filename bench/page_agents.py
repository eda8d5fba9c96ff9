#!/usr/bin/env python3
"""What PAGE's agents chose in a finished run: per round, the clients' learning rates and epochs
(mean, std, share at either bound) and the server's aggregation weights (how many clients carry
the average: the share of weights under a tenth of uniform, and the effective number of clients
1 / sum p^2). Reads rounds.jsonl and clients.jsonl of a run directory.

    bench/page_agents.py RUN_DIR [--every 100]
"""
import argparse
import json
import math
import pathlib
import sys


def read_lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        sys.exit(f"{path}: not found; give the directory of a finished PAGE run")
    except json.JSONDecodeError as e:
        sys.exit(f"{path}: not JSON lines ({e})")


def mean_std(values):
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=pathlib.Path)
    parser.add_argument("--every", type=int, default=100, help="report every this many rounds (and the last)")
    args = parser.parse_args()
    rounds = read_lines(args.run_dir / "rounds.jsonl")
    clients = read_lines(args.run_dir / "clients.jsonl")
    by_round = {}
    for line in clients:
        if "rl_lr" in line:
            by_round.setdefault(line["round"], []).append(line)
    if not by_round:
        sys.exit(f"{args.run_dir}: no client logged rl_lr; is this a PAGE run?")
    last = rounds[-1]["round"]
    print("round | lr mean | lr std | epochs mean | epochs std | weights < 0.1/N | effective clients")
    print("---|---|---|---|---|---|---")
    for record in rounds:
        r = record["round"]
        if (r % args.every != 0 and r != last) or r not in by_round:
            continue
        lr = mean_std([c["rl_lr"] for c in by_round[r]])
        epochs = mean_std([c["rl_epochs"] for c in by_round[r]])
        weights = [v for k, v in record.get("server", {}).items() if k.startswith("weight/")]
        if weights:
            small = sum(1 for w in weights if w < 0.1 / len(weights)) / len(weights)
            effective = 1.0 / sum(w * w for w in weights)
            weight_text = f"{100 * small:.0f}% | {effective:.1f} of {len(weights)}"
        else:
            weight_text = "- | -"
        print(f"{r} | {lr[0]:.4f} | {lr[1]:.4f} | {epochs[0]:.1f} | {epochs[1]:.1f} | {weight_text}")


if __name__ == "__main__":
    main()
