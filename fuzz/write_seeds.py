#!/usr/bin/env python3
"""Writes the text and simple binary seeds of the fuzz corpus (IDX, CIFAR, LEAF, TOML).

The JPEG, wire and archive seeds come from pagefl's own encoders (seeds_writer.cpp). Rerun this
only to change the seeds; the corpus in the repo is what `make fuzz` starts from.
"""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    directory = os.path.join(HERE, "corpus", harness)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


images = idx([2, 3, 3], range(18))
labels = idx([2], [1, 9])
put("idx", "images", images)
put("idx", "labels", labels)
put("idx", "images.gz", gzip.compress(images, mtime=0))
put("idx", "empty-dimension", idx([0, 28, 28], []))

put("cifar", "cifar10-two-records", bytes([3] + [7] * 3072 + [9] + [200] * 3072))
put("cifar", "cifar100-one-record", bytes([4, 55] + [1] * 3072))

put("leaf", "numeric.json", json.dumps({
    "users": ["a", "b"], "num_samples": [2, 1],
    "user_data": {"a": {"x": [[0.5, 1, 2, 3], [1, 2, 3, 4]], "y": [0, 1]}, "b": {"x": [[4, 3, 2, 1]], "y": [2]}},
}).encode())
put("leaf", "characters.json", json.dumps({
    "users": ["u"], "user_data": {"u": {"x": ["to be, or not"], "y": ["t"]}},
}).encode())

configs = os.path.join(HERE, "..", "configs")
for name in ("pilot-fmnist.toml", "page-synthetic.toml", "deploy-fmnist.toml", "shift-fmnist.toml"):
    with open(os.path.join(configs, name), "rb") as config:  # the harness skips files that extend others
        text = b"".join(line for line in config.readlines() if not line.startswith(b"extends"))
    put("config", name, text)
put("config", "overrides.toml", b'[run]\nrounds = 3\n[model]\nhidden = [7, 3]\n[page]\nbalance = 0.25\n')
