#!/usr/bin/python3
"""Parameter counts and per-layer output shapes of the model zoo (Samples/Zoo), computed by PyTorch.

Run with Debian's interpreter (needs python3-torch and python3-torchvision):
    /usr/bin/python3 Generator.Tests/Fixtures/make_zoo_shapes.py
Writes zoo_shapes.json next to this script; Generator.Tests/Zoo/ZooShapeTests.cs compares it with the generated
static members (ParameterCount, Layers) of the Samples/Zoo classes.

torchvision's own models are used where they exist (alexnet, vgg16, googlenet, resnet18/34/50, densenet121); the
other variants (the paper's AlexNet, ZFNet, Network-in-Network, the two Keras AlexNets of seed 003) are PyTorch
mirrors written here from the papers, independently of the C# declarations.

Each model records, for one zeros image (batch 1, batch axis dropped):
  parameters  sum of p.numel() over model.parameters() (BatchNorm weight + bias count, running statistics do not)
  layers      the output shape of every Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and Linear, in execution
              order (forward hooks). An adaptive average pool that changes nothing (torchvision AlexNet's 6x6 -> 6x6)
              or pools to 1x1 (a global average pool; CnnGen's GlobalAvgPool) is left out: CnnGen has no layer for
              the first and its test leaves out the second, whose output the next Linear's input shape already fixes.
              torchvision's InceptionAux pools with the functional F.adaptive_avg_pool2d, which no hook sees; its
              output is recorded as the input of the head's conv (a forward pre-hook), which runs right after it.
  blocks      the output shape of every composite block (ResNet BasicBlock/Bottleneck, Inception, InceptionAux,
              DenseNet _DenseBlock/_Transition), in the order the blocks finish.
GoogLeNet runs in training mode so that its auxiliary heads run (in eval mode torchvision skips them); its
parameters_without_aux come from googlenet(aux_logits=False).
"""
import json
import os

import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.models.densenet import _DenseBlock, _Transition
from torchvision.models.googlenet import Inception, InceptionAux
from torchvision.models.resnet import BasicBlock, Bottleneck

HERE = os.path.dirname(os.path.abspath(__file__))
LAYER_TYPES = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Linear)
BLOCK_TYPES = (BasicBlock, Bottleneck, Inception, InceptionAux, _DenseBlock, _Transition)


def params(model):
    return sum(p.numel() for p in model.parameters())


def trace(model, input_shape, train=False):
    layers, blocks = [], []

    def on_layer(module, inputs, output):
        shape = list(output.shape[1:])
        if isinstance(module, nn.AdaptiveAvgPool2d):
            if shape == list(inputs[0].shape[1:]) or shape[1:] == [1, 1]:
                return
        layers.append({"type": type(module).__name__, "shape": shape})

    def on_block(module, inputs, output):
        blocks.append({"type": type(module).__name__, "shape": list(output.shape[1:])})

    def on_aux_pool(module, inputs):
        layers.append({"type": "AdaptiveAvgPool2d", "shape": list(inputs[0].shape[1:])})

    handles = []
    for m in model.modules():
        if isinstance(m, InceptionAux):
            handles.append(m.conv.register_forward_pre_hook(on_aux_pool))
        if isinstance(m, LAYER_TYPES):
            handles.append(m.register_forward_hook(on_layer))
        elif isinstance(m, BLOCK_TYPES):
            handles.append(m.register_forward_hook(on_block))
    model.train(train)
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in handles:
        h.remove()
    return layers, blocks


# ---------------------------------------------------------------- mirrors of the variants torchvision lacks

def alexnet_original():
    """Krizhevsky, Sutskever and Hinton, NIPS 2012, at 227x227: conv2/4/5 in two groups (the two GPUs),
    LRN after conv1 and conv2, overlapping 3x3/2 max pools. LRN alpha is the paper's 1e-4 per neighbour
    (PyTorch divides alpha by size, hence 5e-4)."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000), nn.Softmax(dim=1))


def zfnet():
    """Zeiler and Fergus, ECCV 2014, Fig. 3: 7x7/2 conv to 110x110, 3x3/2 pools to 55, 13 and 6 (Caffe's
    rounding up, ceil_mode), 5x5/2 conv2, then AlexNet's conv3-5 without groups and its three FC layers."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
        nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000), nn.Softmax(dim=1))


def nin_cifar10():
    """Lin, Chen and Yan, ICLR 2014, the CIFAR-10 model of the authors' Caffe definition: three mlpconv layers
    (a k x k conv and two 1x1 convs), 3x3/2 pools rounded up (ceil_mode), dropout, global average pooling over
    the 10 class maps."""
    return nn.Sequential(
        nn.Conv2d(3, 192, 5, padding=2), nn.ReLU(), nn.Conv2d(192, 160, 1), nn.ReLU(), nn.Conv2d(160, 96, 1), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True), nn.Dropout(0.5),
        nn.Conv2d(96, 192, 5, padding=2), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(),
        nn.AvgPool2d(3, 2, ceil_mode=True), nn.Dropout(0.5),
        nn.Conv2d(192, 192, 3, padding=1), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(), nn.Conv2d(192, 10, 1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Softmax(dim=1))


def keras_alexnet(gap):
    """Seed 003's Keras AlexNet at 224x224 ('valid' convs and pools except conv2's 'same'); gap=True is its
    second model: a 3x3 conv to 1000 maps, global average pooling and Dense(1000) instead of the big FC layers."""
    layers = [
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(384, 384, 3), nn.ReLU(),
        nn.Conv2d(384, 256, 3), nn.ReLU(), nn.MaxPool2d(3, 2)]
    if gap:
        layers += [nn.Conv2d(256, 1000, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1000, 1000)]
    else:
        layers += [nn.Flatten(), nn.Linear(2304, 4096), nn.ReLU(), nn.Dropout(0.5),
                   nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- the zoo

def models():
    """(key, source, model, input shape, train mode). Keys are the CLI's --model names."""
    return [
        ("alexnet-original", "mirror: Krizhevsky et al. 2012, 227x227", alexnet_original(), (3, 227, 227), False),
        ("alexnet", "torchvision.models.alexnet()", tvm.alexnet(weights=None), (3, 224, 224), False),
        ("keras-alexnet", "mirror: seed 003 Keras AlexNet", keras_alexnet(False), (3, 224, 224), False),
        ("keras-alexnet-gap", "mirror: seed 003 Keras AlexNet with global average pooling", keras_alexnet(True), (3, 224, 224), False),
        ("zfnet", "mirror: Zeiler and Fergus 2014", zfnet(), (3, 224, 224), False),
        ("vgg16", "torchvision.models.vgg16()", tvm.vgg16(weights=None), (3, 224, 224), False),
        ("nin", "mirror: Lin et al. 2014, CIFAR-10", nin_cifar10(), (3, 32, 32), False),
        ("googlenet", "torchvision.models.googlenet(aux_logits=True, init_weights=False), training mode",
         tvm.googlenet(weights=None, aux_logits=True, init_weights=False), (3, 224, 224), True),
        ("resnet18", "torchvision.models.resnet18()", tvm.resnet18(weights=None), (3, 224, 224), False),
        ("resnet34", "torchvision.models.resnet34()", tvm.resnet34(weights=None), (3, 224, 224), False),
        ("resnet50", "torchvision.models.resnet50()", tvm.resnet50(weights=None), (3, 224, 224), False),
        ("densenet121", "torchvision.models.densenet121()", tvm.densenet121(weights=None), (3, 224, 224), False),
    ]


def main():
    torch.manual_seed(0)
    out = {}
    for key, source, model, input_shape, train in models():
        layers, blocks = trace(model, input_shape, train)
        entry = {"source": source, "input": list(input_shape), "parameters": params(model)}
        if key == "googlenet":
            entry["parameters_without_aux"] = params(tvm.googlenet(weights=None, aux_logits=False, init_weights=False))
        entry["layers"] = layers
        entry["blocks"] = blocks
        out[key] = entry
        print(f"{key:18} {entry['parameters']:>12,} params  {len(layers):4} layers  {len(blocks):3} blocks")
    path = os.path.join(HERE, "zoo_shapes.json")
    with open(path, "w") as f:
        # One layer per line keeps the committed file small and its diffs readable.
        f.write("{\n")
        for i, (key, e) in enumerate(out.items()):
            f.write(f'  "{key}": {{\n')
            head = {k: v for k, v in e.items() if k not in ("layers", "blocks")}
            for k, v in head.items():
                f.write(f'    "{k}": {json.dumps(v)},\n')
            for part in ("layers", "blocks"):
                rows = [f'      {json.dumps(r, separators=(",", ":"))}' for r in e[part]]
                f.write(f'    "{part}": ' + ("[\n" + ",\n".join(rows) + "\n    ]" if rows else "[]"))
                f.write(",\n" if part == "layers" else "\n")
            f.write("  }" + ("," if i < len(out) - 1 else "") + "\n")
        f.write("}\n")
    json.load(open(path))  # the hand-written layout must be valid JSON
    print("wrote", path)


if __name__ == "__main__":
    main()
