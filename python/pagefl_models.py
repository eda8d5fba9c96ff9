"""PyTorch definitions of pagefl's built-in models, so that a model a run exports
(runs/<run>/models/global.safetensors, a site's models/personal/<client>.safetensors) loads into
plain PyTorch: every parameter has the name and shape pagefl gives it (src/pagefl/nn/models.cpp),
so `model.load_state_dict(safetensors.torch.load_file(path))` works.

    import sys; sys.path.insert(0, "python")
    from pagefl_models import load_model
    model = load_model("runs/pilot/models/global.safetensors")   # an nn.Module in eval mode
    logits = model(images)   # images as pagefl's readers give them (see the README)

Inputs are what pagefl trained on: images as float tensors [N, C, H, W] with pixels in [0, 1],
standardised per channel with the source's published statistics (pagefl's data_source.cpp);
LEAF Shakespeare as [N, 80] character indices. Needs only torch (Debian: python3-torch); the
`safetensors` package is used when present, a minimal reader of the format otherwise.
"""
import json
import struct

import torch
from torch import nn
import torch.nn.functional as F


class LogisticRegression(nn.Module):
    def __init__(self, inputs, classes):
        super().__init__()
        self.fc = nn.Linear(inputs, classes)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Mlp(nn.Module):
    def __init__(self, inputs, hidden, classes):
        super().__init__()
        self.depth = len(hidden)
        width = inputs
        for i, size in enumerate(hidden):
            setattr(self, f"fc{i + 1}", nn.Linear(width, size))
            width = size
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        x = x.flatten(1)
        for i in range(self.depth):
            x = F.relu(getattr(self, f"fc{i + 1}")(x))
        return self.out(x)


class FedAvgCnn(nn.Module):
    """McMahan et al.'s CNN; group_norm=True is pagefl's "cnn-gn"."""

    def __init__(self, shape, classes, group_norm=False):
        super().__init__()
        self.conv1 = nn.Conv2d(shape[0], 32, 5)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.norm1 = nn.GroupNorm(2, 32) if group_norm else None
        self.norm2 = nn.GroupNorm(2, 64) if group_norm else None
        h = ((shape[1] - 4) // 2 - 4) // 2
        w = ((shape[2] - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(64 * h * w, 512)
        self.fc2 = nn.Linear(512, classes)

    def forward(self, x):
        x = self.conv1(x)
        if self.norm1 is not None:
            x = self.norm1(x)
        x = F.max_pool2d(F.relu(x), 2)
        x = self.conv2(x)
        if self.norm2 is not None:
            x = self.norm2(x)
        x = F.max_pool2d(F.relu(x), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def _conv(inputs, outputs, kernel, stride):
    return nn.Conv2d(inputs, outputs, kernel, stride=stride, padding=kernel // 2, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = _conv(inputs, outputs, 3, stride)
        self.norm1 = nn.GroupNorm(2, outputs)
        self.conv2 = _conv(outputs, outputs, 3, 1)
        self.norm2 = nn.GroupNorm(2, outputs)
        self.shortcut_conv = None
        self.shortcut_norm = None
        if stride != 1 or inputs != outputs:
            self.shortcut_conv = _conv(inputs, outputs, 1, stride)
            self.shortcut_norm = nn.GroupNorm(2, outputs)

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        shortcut = x if self.shortcut_conv is None else self.shortcut_norm(self.shortcut_conv(x))
        return F.relu(y + shortcut)


class ResNet18GroupNorm(nn.Module):
    """torchvision's ResNet-18 layout with GroupNorm(2) for every BatchNorm: "resnet18-gn"."""

    def __init__(self, channels, classes):
        super().__init__()
        self.stem = nn.Conv2d(channels, 64, 7, stride=2, padding=3, bias=False)
        self.stem_norm = nn.GroupNorm(2, 64)
        inputs, index = 64, 0
        for width in (64, 128, 256, 512):
            for block in range(2):
                index += 1
                stride = 2 if block == 0 and width != 64 else 1
                setattr(self, f"block{index}", BasicBlock(inputs, width, stride))
                inputs = width
        self.blocks = index
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem_norm(self.stem(x))), 3, 2, 1)
        for i in range(self.blocks):
            x = getattr(self, f"block{i + 1}")(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class CharLstm(nn.Module):
    """LEAF Shakespeare: next character from 80 characters ("lstm")."""

    def __init__(self, vocabulary):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, 8)
        self.lstm = nn.LSTM(8, 100, num_layers=2, batch_first=True)
        self.fc = nn.Linear(100, vocabulary)

    def forward(self, x):
        steps, _ = self.lstm(self.embedding(x.long()))
        return self.fc(steps[:, -1])


def build_model(metadata):
    """The module a file's metadata describes (keys model, sample_shape, num_classes, hidden)."""
    name = metadata["model"]
    shape = json.loads(metadata["sample_shape"])
    classes = int(metadata["num_classes"])
    inputs = 1
    for size in shape:
        inputs *= size
    if name == "logreg":
        return LogisticRegression(inputs, classes)
    if name == "mlp":
        return Mlp(inputs, json.loads(metadata["hidden"]), classes)
    if name in ("cnn", "cnn-gn"):
        return FedAvgCnn(shape, classes, group_norm=name == "cnn-gn")
    if name == "resnet18-gn":
        return ResNet18GroupNorm(shape[0], classes)
    if name == "lstm":
        return CharLstm(classes)
    raise ValueError(f"unknown pagefl model {name!r}")


def read_safetensors(path):
    """(tensors by name, metadata) of a safetensors file; the `safetensors` package when present."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    try:
        from safetensors.torch import load_file
        return load_file(path), metadata
    except ImportError:
        pass
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = dtypes[entry["dtype"]]
        raw = bytearray(body[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata


def load_model(path):
    """The model a pagefl run exported, with its parameters, in eval mode."""
    tensors, metadata = read_safetensors(path)
    model = build_model(metadata)
    model.load_state_dict(tensors)
    return model.eval()
