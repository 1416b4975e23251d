#!/usr/bin/python3
"""PyTorch reference fixtures for CnnGen's numeric tests.

Run with Debian's interpreter (needs python3-torch):  /usr/bin/python3 make_fixtures.py
Writes one JSON file per network next to this script. Everything is float32 (torch defaults).
Each file holds: the input batch (flat NCHW), the output (after softmax when the net ends in Softmax),
a random output gradient dy, the input gradient and every parameter's value and gradient after
output.backward(dy), params in declaration order with CnnGen's names and PyTorch's layouts.
The C# declarations these mirror are in ../Numerics/FixtureNetworks.cs.

Graph networks (residual, Inception with an auxiliary head, DenseNet, BatchNorm) are mirrored node by node in
CnnGen's execution order and naming (see "graph networks" below); their fixtures also carry the layer trace, the
BatchNorm buffers and the mode (eval, train, or loss = a training step's total loss with the auxiliary heads).
Usage: /usr/bin/python3 make_fixtures.py [fixture names]   (no names: all)
"""
import json
import os

import numpy
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
        # Ceil mode adds windows that run past the bottom / right padding: pad those cells with -inf too.
        extra = [0, 0]
        if layer.ceil_mode:
            for d in (0, 1):
                size = x.shape[2 + d] + 2 * p
                out = -(-(size - k) // s) + 1
                if (out - 1) * s >= x.shape[2 + d] + p:
                    out -= 1  # PyTorch drops a last window that would start in the padding
                extra[d] = max(0, (out - 1) * s + k - size)
        xp = nn.functional.pad(x, (p, p + extra[1], p, p + extra[0]), value=float("-inf"))
        win = xp.unfold(2, k, s).unfold(3, k, s)
        win = win.reshape(*win.shape[:4], k * k)
        top2 = win.topk(2, dim=-1).values
        gap = top2[..., 0] - top2[..., 1]
        # Exact ties are harmless. Among zeros produced by a preceding ReLU: whichever cell gets the gradient, the
        # ReLU behind it passes none. Among other values: independent float values are never exactly equal, so the
        # two are copies of one computation (a stride-1 max pool repeats a maximum at neighbouring positions, and a
        # 1x1 conv, BatchNorm and ReLU after it keep the copies equal), and either copy leads the gradient back to
        # the same cells with the same factors.
        gap = torch.where(gap == 0, torch.full_like(gap, float("inf")), gap)
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


# ---------------------------------------------------------------------------------------------- graph networks
# Each graph net is a list of nodes in CnnGen's execution order with CnnGen's names (its Layers / LayerInfos); the
# modules are registered under those dotted names, so named_parameters() / named_buffers() use CnnGen's names too.
# The builders follow the blocks' definitions (torchvision's BasicBlock / Bottleneck v1.5 / BasicConv2d / _DenseLayer /
# _Transition, GoogLeNet's Inception and auxiliary head), written out here rather than taken from the generator.

GRAPH_BATCH = 2


class Graph(nn.Module):
    def __init__(self, input_shape):
        super().__init__()
        self.nodes = []  # (name, kind, module or None, input names)
        self.shapes = {"input": tuple(input_shape)}
        self.heads = []  # (logits node, loss weight); heads[0] is the main head (weight 1)

    def node(self, name, kind, module, *inputs):
        if module is not None:
            parent = self
            parts = name.split(".")
            for part in parts[:-1]:
                if part not in parent._modules:
                    parent.add_module(part, nn.Module())
                parent = parent._modules[part]
            parent.add_module(parts[-1], module)
        self.nodes.append((name, kind, module, inputs))
        with torch.no_grad():  # infer the shape on a dummy batch (buffers are overwritten before use)
            dummy = [torch.zeros(GRAPH_BATCH, *self.shapes[i]) for i in inputs]
            self.shapes[name] = tuple(self.apply_node(kind, module, dummy).shape[1:])
        return name

    def c(self, x):
        return self.shapes[x][0]

    @staticmethod
    def apply_node(kind, module, xs):
        if kind == "add":
            return xs[0] + xs[1]
        if kind == "concat":
            return torch.cat(xs, dim=1)
        if kind == "gap":
            return xs[0].mean(dim=(2, 3))
        if kind == "softmax":
            return torch.softmax(xs[0], dim=1)
        return module(xs[0])

    def forward(self, x, margins=None):
        """Every node's value (auxiliary heads included: in inference CnnGen skips them, which changes nothing
        upstream)."""
        values = {"input": x}
        for name, kind, module, inputs in self.nodes:
            xs = [values[i] for i in inputs]
            if margins is not None and module is not None:
                margins.append((name, kink_margin(module, xs[0].detach())))
            values[name] = self.apply_node(kind, module, xs)
        return values

    def init(self):
        """Weights N(0, 2 / fan_in) (He: activations keep their scale), biases N(0, 0.3^2), BatchNorm gamma 1 + N(0, 0.3^2),
        beta N(0, 0.3^2); running means N(0, 0.3^2) and variances 0.5 + |N(0, 1)|, so inference does not see identity stats."""
        with torch.no_grad():
            for name, kind, module, _ in self.nodes:
                if kind in ("conv", "dense"):
                    fan_in = module.weight[0].numel()
                    module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                    if module.bias is not None:
                        module.bias.normal_(0.0, PARAM_STD)
                elif kind == "bn":
                    module.weight.normal_(1.0, PARAM_STD)
                    module.bias.normal_(0.0, PARAM_STD)
                    module.running_mean.normal_(0.0, PARAM_STD)
                    module.running_var.copy_(0.5 + torch.randn_like(module.running_var).abs())
                    module.num_batches_tracked.zero_()

    def params(self):
        """(name, tensor) in CnnGen's order: node by node, weight before bias."""
        out = [(f"{n}.{p}", getattr(m, p)) for n, _, m, _ in self.nodes if m is not None
               for p in ("weight", "bias") if getattr(m, p, None) is not None]
        assert [n for n, _ in out] == [n for n, _ in self.named_parameters()], "parameter order differs from CnnGen's"
        return out

    def buffers_(self):
        out = [(f"{n}.{b}", getattr(m, b)) for n, k, m, _ in self.nodes if k == "bn" for b in ("running_mean", "running_var")]
        assert [n for n, _ in out] == [n for n, _ in self.named_buffers() if not n.endswith("num_batches_tracked")]
        return out


def conv(g, name, x, filters, kernel, stride=1, padding=0, bias=True, groups=1):
    return g.node(name, "conv", nn.Conv2d(g.c(x), filters, kernel, stride, padding, groups=groups, bias=bias), x)


def bn(g, name, x, eps=1e-5, momentum=0.1):
    vector = len(g.shapes[x]) == 1
    return g.node(name, "bn", (nn.BatchNorm1d if vector else nn.BatchNorm2d)(g.c(x), eps=eps, momentum=momentum), x)


def relu(g, name, x):
    return g.node(name, "relu", nn.ReLU(), x)


def maxpool(g, name, x, window, stride, padding=0, ceil=False):
    return g.node(name, "maxpool", nn.MaxPool2d(window, stride, padding, ceil_mode=ceil), x)


def avgpool(g, name, x, window, stride):
    return g.node(name, "avgpool", nn.AvgPool2d(window, stride), x)


def dense(g, name, x, units):
    return g.node(name, "dense", nn.Linear(g.shapes[x][0], units), x)


def basic_block(g, p, x, width, stride=1):
    y = relu(g, p + ".relu1", bn(g, p + ".bn1", conv(g, p + ".conv1", x, width, 3, stride, 1, bias=False)))
    y = bn(g, p + ".bn2", conv(g, p + ".conv2", y, width, 3, 1, 1, bias=False))
    shortcut = x
    if stride != 1 or g.c(x) != width:
        shortcut = bn(g, p + ".downsample.bn1", conv(g, p + ".downsample.conv1", x, width, 1, stride, bias=False))
    return relu(g, p + ".relu2", g.node(p + ".add", "add", None, y, shortcut))


def bottleneck(g, p, x, width, stride=1, expansion=4):
    y = relu(g, p + ".relu1", bn(g, p + ".bn1", conv(g, p + ".conv1", x, width, 1, bias=False)))
    y = relu(g, p + ".relu2", bn(g, p + ".bn2", conv(g, p + ".conv2", y, width, 3, stride, 1, bias=False)))
    y = bn(g, p + ".bn3", conv(g, p + ".conv3", y, width * expansion, 1, bias=False))
    shortcut = x
    if stride != 1 or g.c(x) != width * expansion:
        shortcut = bn(g, p + ".downsample.bn1", conv(g, p + ".downsample.conv1", x, width * expansion, 1, stride, bias=False))
    return relu(g, p + ".relu3", g.node(p + ".add", "add", None, y, shortcut))


def inception(g, p, x, c1, r3, c3, r5, c5, pool_proj, large=5, batch_norm=False, eps=1e-3):
    def unit(branch, t, filters, kernel, i):  # conv + ReLU, or torchvision's BasicConv2d (conv without bias, BN, ReLU)
        y = conv(g, f"{p}.{branch}.conv{i}", t, filters, kernel, 1, kernel // 2, bias=not batch_norm)
        if batch_norm:
            y = bn(g, f"{p}.{branch}.bn{i}", y, eps=eps)
        return relu(g, f"{p}.{branch}.relu{i}", y)
    y1 = unit("branch1", x, c1, 1, 1)
    y2 = unit("branch2", unit("branch2", x, r3, 1, 1), c3, 3, 2)
    y3 = unit("branch3", unit("branch3", x, r5, 1, 1), c5, large, 2)
    y4 = unit("branch4", maxpool(g, p + ".branch4.maxpool1", x, 3, 1, 1, ceil=True), pool_proj, 1, 1)
    return g.node(p + ".concat", "concat", None, y1, y2, y3, y4)


def dense_block(g, p, x, layers, growth, width):
    for i in range(1, layers + 1):
        s = f"{p}.layer{i}"
        y = conv(g, s + ".conv1", relu(g, s + ".relu1", bn(g, s + ".bn1", x)), width * growth, 1, bias=False)
        y = conv(g, s + ".conv2", relu(g, s + ".relu2", bn(g, s + ".bn2", y)), growth, 3, 1, 1, bias=False)
        x = g.node(s + ".concat", "concat", None, x, y)
    return x


def transition(g, p, x, compression=0.5):
    y = conv(g, p + ".conv1", relu(g, p + ".relu1", bn(g, p + ".bn1", x)), int(g.c(x) * compression), 1, bias=False)
    return avgpool(g, p + ".avgpool1", y, 2, 2)


def aux_head(g, p, x, channels, hidden, classes, weight, batch_norm=False, eps=1e-3):
    """GoogLeNet's auxiliary classifier (5x5/3 average pool, 1x1 conv (without bias, BN: torchvision's InceptionAux),
    ReLU, Dense, ReLU, Dropout, Dense) with Dropout 0."""
    y = conv(g, p + ".conv1", avgpool(g, p + ".avgpool1", x, 5, 3), channels, 1, bias=not batch_norm)
    if batch_norm:
        y = bn(g, p + ".bn1", y, eps=eps)
    y = relu(g, p + ".relu1", y)
    y = relu(g, p + ".relu2", dense(g, p + ".dense1", g.node(p + ".flatten1", "flatten", nn.Flatten(), y), hidden))
    logits = dense(g, p + ".dense2", g.node(p + ".dropout1", "dropout", nn.Dropout(0.0), y), classes)
    g.heads.append((logits, weight))


def finish(g, logits, softmax):
    g.heads.insert(0, (logits, 1.0))
    if softmax:
        g.node("softmax1", "softmax", None, logits)
    return g


def graph_resnet():
    g = Graph((3, 8, 8))
    x = relu(g, "relu1", bn(g, "bn1", conv(g, "conv1", "input", 4, 3, 1, 1, bias=False)))
    x = relu(g, "relu2", res_body(g, "residual1", x, 4, shortcut=False))
    for i in (1, 2):  # Use<FixtureConvBn>(4, Repeat = 2)
        p = f"fixtureconvbn{i}"
        x = relu(g, p + ".relu1", bn(g, p + ".bn1", conv(g, p + ".conv1", x, 4, 1, bias=False)))
    x = basic_block(g, "basicblock1", x, 4)
    x = basic_block(g, "basicblock2", x, 6, stride=2)
    x = bottleneck(g, "bottleneck1", x, 2, stride=2)
    x = res_body(g, "residual2", x, 4, shortcut=True)
    x = dense(g, "dense1", g.node("gap1", "gap", None, x), 5)
    return finish(g, x, softmax=False), {"relu2": (4, 8, 8), "fixtureconvbn2.relu1": (4, 8, 8), "basicblock1.relu2": (4, 8, 8),
                                         "basicblock2.relu2": (6, 4, 4), "bottleneck1.relu3": (8, 2, 2),
                                         "residual2.add": (4, 2, 2), "dense1": (5,)}


def res_body(g, p, x, width, shortcut):
    """Residual<FixtureResBody>(width) (identity shortcut) or Residual<FixtureResBody, FixtureProjection>(width)."""
    y = relu(g, p + ".body.relu1", bn(g, p + ".body.bn1", conv(g, p + ".body.conv1", x, width, 1, bias=False)))
    y = conv(g, p + ".body.conv2", y, width, 3, 1, 1)
    if shortcut:
        x = bn(g, p + ".shortcut.bn1", conv(g, p + ".shortcut.conv1", x, width, 1, bias=False))
    return g.node(p + ".add", "add", None, y, x)


def graph_inception():
    g = Graph((3, 8, 8))
    x = relu(g, "relu1", conv(g, "conv1", "input", 6, 3, 1, 1))
    x = g.node("lrn1", "lrn", nn.LocalResponseNorm(4, alpha=0.5, beta=0.75, k=2.0), x)
    x = inception(g, "inception1", x, 2, 2, 3, 1, 2, 2, batch_norm=True)
    aux_head(g, "aux1", x, channels=4, hidden=8, classes=4, weight=0.3, batch_norm=True)
    b2 = relu(g, "concat1.branch2.relu1", conv(g, "concat1.branch2.conv1", x, 3, 3, 1, 1))
    b3 = conv(g, "concat1.branch3.conv1", maxpool(g, "concat1.branch3.maxpool1", x, 3, 1, 1), 3, 1)
    x = maxpool(g, "maxpool1", g.node("concat1.concat", "concat", None, x, b2, b3), 3, 2, ceil=True)
    x = inception(g, "inception2", x, 2, 2, 2, 1, 2, 1, large=3)
    x = dense(g, "dense1", g.node("gap1", "gap", None, x), 4)
    return finish(g, x, softmax=True), {"inception1.concat": (9, 8, 8), "aux1.avgpool1": (9, 2, 2), "aux1.dense2": (4,),
                                        "concat1.concat": (15, 8, 8), "maxpool1": (15, 4, 4), "inception2.concat": (7, 4, 4),
                                        "softmax1": (4,)}


def graph_densenet():
    g = Graph((3, 8, 8))
    x = conv(g, "conv1", "input", 4, 3, 1, 1, bias=False)
    x = dense_block(g, "denseblock1", x, 2, growth=2, width=2)
    x = transition(g, "transition1", x)
    x = dense_block(g, "denseblock2", x, 2, growth=2, width=2)
    x = g.node("gap1", "gap", None, relu(g, "relu1", bn(g, "bn1", x)))
    return finish(g, dense(g, "dense1", x, 3), softmax=False), {
        "denseblock1.layer2.concat": (8, 8, 8), "transition1.avgpool1": (4, 4, 4), "denseblock2.layer2.concat": (8, 4, 4), "dense1": (3,)}


def graph_batchnorm():
    g = Graph((2, 6, 6))
    x = relu(g, "relu1", bn(g, "bn1", conv(g, "conv1", "input", 4, 3, 1, 1)))
    x = relu(g, "relu2", bn(g, "bn2", conv(g, "conv2", x, 4, 3, 2, 0, bias=False, groups=2), eps=1e-3, momentum=0.3))
    x = dense(g, "dense1", g.node("flatten1", "flatten", nn.Flatten(), x), 6)
    x = dense(g, "dense2", relu(g, "relu3", bn(g, "bn3", x)), 3)
    return finish(g, x, softmax=True), {"conv2": (4, 2, 2), "flatten1": (16,), "bn3": (6,), "softmax1": (3,)}


def graph_packed_winograd():
    g = Graph((4, 5, 5))
    x = relu(g, "relu1", bn(g, "bn1", conv(g, "conv1", "input", 64, 3, 1, 1, bias=False)))
    x = dense(g, "dense1", g.node("gap1", "gap", None, x), 3)
    return finish(g, x, softmax=False), {"relu1": (64, 5, 5), "gap1": (64,), "dense1": (3,)}


# name -> (builder, mode, first seed). eval: inference forward (running statistics) and backward of a random output
# gradient; train: training-mode forward (batch statistics, running statistics updated) and backward; loss: one
# training step's loss (softmax cross-entropy of the main head plus Weight x each auxiliary head's) and its gradients.
GRAPH_FIXTURES = {
    "FixtureResNet.eval": (graph_resnet, "eval", 100),
    "FixtureResNet.train": (graph_resnet, "train", 200),
    "FixtureInception.eval": (graph_inception, "eval", 300),
    "FixtureInception.loss": (graph_inception, "loss", 400),
    "FixtureDenseNet.eval": (graph_densenet, "eval", 500),
    "FixtureDenseNet.train": (graph_densenet, "train", 600),
    "FixtureBatchNorm.eval": (graph_batchnorm, "eval", 700),
    "FixtureBatchNorm.train": (graph_batchnorm, "train", 800),
    "FixturePackedWinograd.eval": (graph_packed_winograd, "eval", 900),
}


def make_graph(name, spec):
    base_seed = spec[2]
    for seed in range(base_seed, base_seed + 100):
        if make_graph_with_seed(name, spec, seed):
            return
    raise RuntimeError(f"{name}: no seed in 100 tries keeps clear of kinks")


def compact(values):
    """Float32 values as the doubles nearest their shortest round-trip decimal form, so JSON holds that short form
    (about half the size of the float32 value's exact double repr) and reading it back as float32 gives the value."""
    return [f32(v) for v in values.detach().reshape(-1).tolist()]


def f32(v):
    return float(str(numpy.float32(v)))


def make_graph_with_seed(name, spec, seed):
    builder, mode, _ = spec
    torch.manual_seed(seed)
    g, expected = builder()
    g.init()
    params, buffers = g.params(), g.buffers_()
    before = [(n, b.clone()) for n, b in buffers]
    g.train(mode != "eval")
    x = torch.randn(GRAPH_BATCH, *g.shapes["input"], requires_grad=mode != "loss")
    margins = []
    values = g(x, margins)
    layers = [(n, g.shapes[n]) for n, _, _, _ in g.nodes]
    print(name, "seed", seed, "nodes", len(layers), "params", sum(p.numel() for _, p in params))
    for n, shape in expected.items():
        assert g.shapes[n] == shape, f"{name}: {n} is {g.shapes[n]}, the C# declaration says {shape}"
    for n, m in margins:
        if m is not None and not m > MIN_MARGIN:
            print(f"  {n} input within {m:.3g} of a kink: trying the next seed")
            return False
    print("  smallest kink margin", min(m for _, m in margins if m is not None))
    doc = {"name": name, "network": name.split(".")[0], "mode": mode, "seed": seed, "batch": GRAPH_BATCH,
           "input_shape": list(g.shapes["input"]), "input": compact(x),
           "layers": [{"name": n, "shape": list(s)} for n, s in layers]}
    if mode == "loss":
        labels = torch.randint(0, g.shapes[g.heads[0][0]][0], (GRAPH_BATCH,))
        loss = sum(w * nn.functional.cross_entropy(values[h], labels) for h, w in g.heads)
        loss.backward()
        doc["labels"] = labels.tolist()
        doc["loss"] = f32(loss.item())
        doc["correct"] = int((values[g.heads[0][0]].argmax(dim=1) == labels).sum())
        print(f"  loss {loss.item():.6g} (heads {[h for h, _ in g.heads]})")
    else:
        y = values[g.nodes[-1][0]]
        dy = torch.randn_like(y)
        y.backward(dy)
        doc["output"], doc["output_grad"], doc["input_grad"] = compact(y), compact(dy), compact(x.grad)
    doc["params"] = [{"name": n, "shape": list(p.shape), "value": compact(p),
                      "grad": compact(p.grad if p.grad is not None else torch.zeros_like(p))} for n, p in params]
    doc["buffers"] = [{"name": n, "shape": list(b.shape), "value": compact(b)} for n, b in before]
    if mode != "eval":
        doc["buffers_after"] = [{"name": n, "shape": list(b.shape), "value": compact(b)} for n, b in buffers]
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        f.write(json.dumps(doc, separators=(",", ":")))
        f.write("\n")
    print("  wrote", path, os.path.getsize(path), "bytes")
    return True


if __name__ == "__main__":
    import sys
    torch.set_default_dtype(torch.float32)
    wanted = set(sys.argv[1:])  # fixture names; none = all
    for b in (net_a, net_b):
        if not wanted or b()[0] in wanted:
            make(b)
    for fixture, fixture_spec in GRAPH_FIXTURES.items():
        if not wanted or fixture in wanted:
            make_graph(fixture, fixture_spec)
