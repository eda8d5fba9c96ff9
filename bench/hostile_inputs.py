#!/usr/bin/env python3
"""Hostile and broken inputs to `pagefl run` and `pagefl partition`, rerun against a built binary.

Each case writes the files a careless or hostile user would hand pagefl (lying IDX headers,
labels outside the classes, broken LEAF JSON, configs that escape the output directory or imply
more memory than the machine has) and runs the CLI. A case passes when pagefl exits 0 or 2 and
prints no signal, abort, internal error or LibTorch backtrace; the first line of its error is
printed so that a reader can judge whether it names the fix. Issue 13's list, plus neighbours.

Usage: bench/hostile_inputs.py [BUILD_DIR]   (default: build)
"""
import gzip
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
PAGEFL = os.path.abspath(os.path.join(BUILD, "pagefl"))
BAD_SIGNS = ("internal error", "terminate called", "Exception raised from", "Aborted", "Segmentation", "core dumped")


def idx(dims, values, type_code=8):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


def write(path, data, mode="wb"):
    with open(path, mode) as out:
        out.write(data)


def mnist_like(directory, train=300, test=100, rows=28, labels_max=9, zero_pixels=False):
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(1)
    for split, count in (("train", train), ("t10k", test)):
        side = 0 if zero_pixels else rows
        write(os.path.join(directory, f"{split}-images-idx3-ubyte"),
              idx([count, side, rows], [rng.randrange(256) for _ in range(count * side * rows)]))
        write(os.path.join(directory, f"{split}-labels-idx1-ubyte"),
              idx([count], [rng.randrange(labels_max + 1) for _ in range(count)]))
    return directory


def leaf(directory, train_users, name="train.json"):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    text = train_users if isinstance(train_users, str) else json.dumps(train_users)
    write(path, text.encode() if isinstance(text, str) else text)
    return path


def leaf_users(x, y, users=("u",)):
    return {"users": list(users), "num_samples": [len(y)] * len(users),
            "user_data": {u: {"x": x, "y": y} for u in users}}


def main():
    if not os.path.exists(PAGEFL):
        sys.exit(f"no pagefl binary at {PAGEFL}: build first (make build)")
    root = tempfile.mkdtemp(prefix="pagefl-hostile-")
    out = os.path.join(root, "runs")
    quick = ["run.rounds=1", "algorithm.name=fedavg", "model.name=mlp", "model.hidden=[8]", f"run.output_dir={out}",
             "partition.num_clients=4", "eval.every=1"]
    mnist = mnist_like(os.path.join(root, "mnist"))
    on_mnist = ["data.source=mnist", f"data.path={mnist}"]
    synthetic = ["data.source=synthetic", "synthetic.num_clients=4", "synthetic.samples_per_client=40"]
    base = os.path.join(root, "base.toml")
    write(base, b"[run]\nname = \"hostile\"\n")

    def config(name, text):
        path = os.path.join(root, name)
        write(path, text.encode() if isinstance(text, str) else text)
        return path

    def leaf_run(train_json):
        test_json = leaf(os.path.join(root, "leaf-ok"), leaf_users([[0.5, 0.5]] * 4, [0, 1, 0, 1]), "test.json")
        return ["data.source=leaf", f"data.leaf_train={train_json}", f"data.leaf_test={test_json}",
                "partition.scheme=natural"]

    big_label = leaf(os.path.join(root, "leaf-biglabel"), '{"users":["u"],"user_data":{"u":{"x":[[1,2]],"y":["'
                     + "7" * 100_000_000 + '"]}}}')
    cases = [
        ("model.hidden = [1e6, 1e6]", "run", synthetic + ["model.name=mlp", "model.hidden=[1000000,1000000]"]),
        ("1000-client synthetic config", "run", synthetic + ["synthetic.num_clients=1000", "run.rounds=1"]),
        ("page.replay_capacity = 1e8", "run", synthetic + ["algorithm.name=page", "page.replay_capacity=100000000"]),
        ("run.name escaping the output directory", "run", synthetic + ["run.name=../../x"]),
        ("a 100 MB run.name", "config", config("long-name.toml", "[run]\nname = \"" + "n" * 100_000_000 + "\"\n")),
        ("extends naming a directory", "config", config("extends-dir.toml", f"extends = \"{root}\"\n")),
        ("a binary config file", "config", config("garbage.toml", bytes(range(256)) * 4)),
        ("an unknown key", "run", synthetic + ["run.nmae=x"]),
        ("a wrong type", "run", synthetic + ["run.rounds=\"many\""]),
        ("rounds out of range", "run", synthetic + ["run.rounds=-3"]),
        ("1000 clients over 300 samples", "run", on_mnist + ["partition.num_clients=1000"]),
        ("IDX labels beyond the classes (run)", "run",
         ["data.source=mnist", f"data.path={mnist_like(os.path.join(root, 'labels12'), labels_max=12)}",
          "partition.scheme=dirichlet"]),
        ("IDX labels beyond the classes (partition)", "partition",
         ["data.source=mnist", f"data.path={os.path.join(root, 'labels12')}", "partition.scheme=dirichlet"]),
        ("IDX zero-pixel images", "run",
         ["data.source=mnist", f"data.path={mnist_like(os.path.join(root, 'zero'), zero_pixels=True)}"]),
        ("a missing data directory", "run", ["data.source=mnist", f"data.path={root}/nowhere"]),
        ("a directory in place of a data file", "run", ["data.source=mnist", f"data.path={root}/dir-in-place"]),
        ("a truncated IDX image file", "run", ["data.source=mnist", f"data.path={root}/truncated"]),
        ("an IDX header claiming 2^31 elements over 16 bytes", "run", ["data.source=mnist", f"data.path={root}/claims"]),
        ("an IDX header claiming 16 GiB", "run", ["data.source=mnist", f"data.path={root}/claims16g"]),
        ("a gzip IDX that is not gzip", "run", ["data.source=mnist", f"data.path={root}/notgzip"]),
        ("LEAF: a user with 0 samples", "run",
         leaf_run(leaf(os.path.join(root, "leaf0"), leaf_users([], [])))),
        ("LEAF: label 1e8", "run", leaf_run(leaf(os.path.join(root, "leaf1e8"), leaf_users([[1, 2]], [100000000])))),
        ("LEAF: feature 1e400", "run",
         leaf_run(leaf(os.path.join(root, "leaf1e400"), '{"users":["u"],"user_data":{"u":{"x":[[1e400]],"y":[0]}}}'))),
        ("LEAF: feature 1e39 (Inf as float)", "run",
         leaf_run(leaf(os.path.join(root, "leaf1e39"), leaf_users([[1e39, 1]] * 2, [0, 1])))),
        ("LEAF: zero-feature samples", "run", leaf_run(leaf(os.path.join(root, "leafzero"), leaf_users([[], []], [0, 1])))),
        ("LEAF: x as a string", "run",
         leaf_run(leaf(os.path.join(root, "leafstr"), '{"users":["u"],"user_data":{"u":{"x":[[1,2],"ab"],"y":[0,1]}}}'))),
        ("LEAF: a 100 MB label", "run", leaf_run(big_label)),
        ("LEAF: not JSON", "run", leaf_run(leaf(os.path.join(root, "leafbad"), "{\"users\": [1, 2"))),
        ("LEAF: mixed string and number labels", "run",
         leaf_run(leaf(os.path.join(root, "leafmixed"), leaf_users([[1, 2], [3, 4]], [0, "a"])))),
        ("a CIFAR directory without batches", "run", ["data.source=cifar10", f"data.path={root}/mnist"]),
        ("deploy.run_dir = /proc/x (server)", "server", ["deploy.run_dir=/proc/x", 'deploy.clients=["a"]']),
        ("LEAF: train and test files of different widths", "run",
         ["data.source=leaf", f"data.leaf_train={leaf(os.path.join(root, 'leafw'), leaf_users([[1, 2, 3]] * 2, [0, 1]))}",
          f"data.leaf_test={os.path.join(root, 'leaf-ok', 'test.json')}", "partition.scheme=natural"]),
    ]
    in_place = mnist_like(os.path.join(root, "dir-in-place"))
    os.remove(os.path.join(in_place, "train-images-idx3-ubyte"))
    os.makedirs(os.path.join(in_place, "train-images-idx3-ubyte"))
    for name, dims, body in (("truncated", [300, 28, 28], b"\x01" * 1000), ("claims", [2**31], b"\x01" * 16),
                             ("claims16g", [2**16, 2**16, 2**2], b"\x01" * 16)):
        directory = mnist_like(os.path.join(root, name))
        write(os.path.join(directory, "train-images-idx3-ubyte"), bytes([0, 0, 8, len(dims)]) +
              b"".join(struct.pack(">I", d) for d in dims) + body)
    notgzip = mnist_like(os.path.join(root, "notgzip"))
    os.remove(os.path.join(notgzip, "train-images-idx3-ubyte"))
    write(os.path.join(notgzip, "train-images-idx3-ubyte.gz"), b"\x1f\x8bnot really gzip")

    failures = 0
    print(f"| case | command | exit | first line of the message |\n|---|---|---|---|")
    for name, command, arguments in cases:
        if command == "config":
            argv = [PAGEFL, "run", "-c", arguments] + quick
        elif command == "server":
            argv = [PAGEFL, "server", "-c", base] + arguments
        else:
            argv = [PAGEFL, command, "-c", base] + quick + arguments
        try:
            done = subprocess.run(argv, capture_output=True, timeout=600)
            code, text = done.returncode, (done.stderr + done.stdout).decode(errors="replace")
        except subprocess.TimeoutExpired:
            code, text = "timeout", ""
        lines = [line for line in text.splitlines() if "error" in line.lower() or "warn" in line.lower()]
        first = (lines[0] if lines else (text.splitlines() or [""])[0])[:160].replace("|", "/")
        bad = code not in (0, 2) or any(sign in text for sign in BAD_SIGNS) or len(text) > 20000
        failures += bad
        print(f"| {name} | {command} | {code}{' FAIL' if bad else ''} | {first} |")
    print(f"\n{len(cases) - failures} of {len(cases)} cases exit 0 or 2 with a clear message; files in {root}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
