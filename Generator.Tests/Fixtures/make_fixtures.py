#!/usr/bin/python3
"""PyTorch reference fixtures for CnnGen's numeric tests.

Run with Debian's interpreter (needs python3-torch):  /usr/bin/python3 make_fixtures.py
Writes one JSON file per network next to this script. Everything is float32 (torch defaults).
Each file holds: the input batch (flat NCHW), the output (after softmax when the net ends in Softmax),
a random output gradient dy, the input gradient and every parameter's value and gradient after
output.backward(dy), params in declaration order with CnnGen's names and PyTorch's layouts.
The C# declarations these mirror are in ../Numerics/FixtureNetworks.cs.
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 3
PARAM_STD = 0.3


class Named(nn.Module):
    """A sequential net whose parameters carry CnnGen's names (conv1.weight, dense1.bias, ...)."""

    def __init__(self, layers, softmax):
        super().__init__()
        self.order = []
        for name, layer in layers:
            self.add_module(name, layer)
            self.order.append(name)
        self.softmax = softmax

    def forward(self, x, trace=None, margins=None):
        for name in self.order:
            layer = getattr(self, name)
            if margins is not None:
                margins.append((name, kink_margin(layer, x.detach())))
            x = layer(x)
            if trace is not None:
                trace.append((name, tuple(x.shape[1:])))
        if self.softmax:
            x = torch.softmax(x, dim=1)
            if trace is not None:
                trace.append(("softmax1", tuple(x.shape[1:])))
        return x


def net_a():
    # [Network(Channels = 2, Height = 9, Width = 9)]
    # [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
    # [Conv2D(6, 3, Stride = 2, Padding = 1, Groups = 2), ReLU, AvgPool2D(2, Stride = 1)]
    # [Flatten, Dense(5), Softmax]
    layers = [
        ("conv1", nn.Conv2d(2, 4, 3, padding=1)),
        ("relu1", nn.ReLU()),
        ("maxpool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)),
        ("relu2", nn.ReLU()),
        ("avgpool1", nn.AvgPool2d(2, stride=1)),
        ("flatten1", nn.Flatten()),
        ("dense1", nn.Linear(6, 5)),
    ]
    return "FixtureNetA", (2, 9, 9), Named(layers, softmax=True), 1234, \
        [(4, 9, 9), (4, 9, 9), (4, 4, 4), (6, 2, 2), (6, 2, 2), (6, 1, 1), (6,), (5,), (5,)]


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


def net_b():
    # [Network(Channels = 3, Height = 8, Width = 8)]
    # [Conv2D(8, 1), ReLU]
    # [Conv2D(8, 3, Stride = 2, Padding = 1, Bias = false), AvgPool2D(3, Stride = 1, Padding = 1), MaxPool2D(3, Stride = 2, Padding = 1)]
    # [GlobalAvgPool, Dense(4), ReLU, Dense(3)]
    layers = [
        ("conv1", nn.Conv2d(3, 8, 1)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False)),
        ("avgpool1", nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)),
        ("maxpool1", nn.MaxPool2d(3, stride=2, padding=1)),
        ("gap1", GlobalAvgPool()),
        ("dense1", nn.Linear(8, 4)),
        ("relu2", nn.ReLU()),
        ("dense2", nn.Linear(4, 3)),
    ]
    return "FixtureNetB", (3, 8, 8), Named(layers, softmax=False), 5678, \
        [(8, 8, 8), (8, 8, 8), (8, 4, 4), (8, 4, 4), (8, 2, 2), (8,), (4,), (4,), (3,)]


def kink_margin(layer, x):
    """How far the input is from a kink of a ReLU (|x|) or a max pool (gap between the two largest
    candidates of a window, padding counted as -inf). A tiny margin would let float rounding differences
    between implementations pick a different branch, so the fixtures insist on a clear one."""
    if isinstance(layer, nn.ReLU):
        return float(x.abs().min())
    if isinstance(layer, nn.MaxPool2d):
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        xp = nn.functional.pad(x, (p, p, p, p), value=float("-inf"))
        win = xp.unfold(2, k, s).unfold(3, k, s)
        win = win.reshape(*win.shape[:4], k * k)
        top2 = win.topk(2, dim=-1).values
        gap = top2[..., 0] - top2[..., 1]
        # Exact ties among zeros produced by a preceding ReLU are harmless: whichever cell gets the
        # gradient, the ReLU behind it passes none.
        gap = torch.where((top2[..., 0] == 0) & (top2[..., 1] == 0), torch.full_like(gap, float("inf")), gap)
        return float(gap.min())
    return None


# Float32 rounding differences here are ~1e-6; 1e-4 leaves two orders of magnitude.
MIN_MARGIN = 1e-4


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make(builder):
    name, _, _, base_seed, _ = builder()
    # Deterministic: the first seed from base_seed whose draw keeps every ReLU / max-pool input clear of a kink.
    for seed in range(base_seed, base_seed + 100):
        if make_with_seed(builder, seed):
            return
    raise RuntimeError(f"{name}: no seed in 100 tries keeps clear of kinks")


def make_with_seed(builder, seed):
    name, input_shape, model, _, expected_shapes = builder()
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, PARAM_STD)
    model.eval()
    x = torch.randn(BATCH, *input_shape, requires_grad=True)
    trace = []
    margins = []
    y = model(x, trace, margins)
    shapes = [s for _, s in trace]
    print(name, "seed", seed, "input", input_shape)
    for layer, s in trace:
        print(f"  {layer:9s} -> {s}")
    assert shapes == expected_shapes, f"{name}: shapes {shapes} != expected {expected_shapes}"
    for layer, m in margins:
        if m is not None:
            print(f"  kink margin before {layer}: {m:.3g}")
            if not m > MIN_MARGIN:
                print(f"  {layer} input within {m:.3g} of a kink: trying the next seed")
                return False
    dy = torch.randn_like(y)
    y.backward(dy)
    params = []
    for pname, p in model.named_parameters():
        params.append({"name": pname, "shape": list(p.shape), "value": flat(p), "grad": flat(p.grad)})
        print(f"  param {pname} {list(p.shape)}")
    doc = {
        "name": name,
        "seed": seed,
        "batch": BATCH,
        "input_shape": list(input_shape),
        "input": flat(x),
        "output": flat(y),
        "output_grad": flat(dy),
        "input_grad": flat(x.grad),
        "params": params,
    }
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print("  wrote", path, "output", list(y.shape), "params", sum(p.numel() for p in model.parameters()))
    return True


if __name__ == "__main__":
    torch.set_default_dtype(torch.float32)
    for b in (net_a, net_b):
        make(b)
