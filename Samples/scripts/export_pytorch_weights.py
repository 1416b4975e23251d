#!/usr/bin/python3
"""Export PyTorch weights for a CnnGen network as a safetensors file that WeightFile.Load reads.

Run with Debian's interpreter (needs python3-torch; the `safetensors` package is NOT needed, the format is
written by hand below):

    /usr/bin/python3 Samples/scripts/export_pytorch_weights.py FixtureNetA --out Generator.Tests/Fixtures --std 0.5

For model NAME this writes
    NAME.safetensors           every parameter, F32, with CnnGen's names (conv1.weight, dense1.bias, ...)
    NAME.exported.json         an input batch (flat NCHW) and PyTorch's output for it, for the C# test

Models are plain nn.Sequential stacks mirroring a CnnGen declaration layer by layer; `cnngen_names` maps
PyTorch's index names ("0.weight") to CnnGen's ("conv1.weight"): CnnGen numbers layers per type in
declaration order (conv1, relu1, maxpool1, conv2, ..., dense1), and parameter layouts are PyTorch's own
(conv [out, in/groups, kh, kw], dense [out, in]), so the tensors are written unchanged.

To export your own trained model, build it with MODELS-style nn.Sequential, load your state_dict into it
and call `write_safetensors(path, cnngen_state_dict(model), metadata)`.
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn as nn


class GlobalAvgPool(nn.Module):
    """CnnGen's [GlobalAvgPool]: mean over H and W, C x H x W -> C."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


# CnnGen's layer-name prefix for each module type; only conv and dense layers own parameters.
PREFIX = [
    (nn.Conv2d, "conv"),
    (nn.Linear, "dense"),
    (nn.ReLU, "relu"),
    (nn.MaxPool2d, "maxpool"),
    (nn.AvgPool2d, "avgpool"),
    (GlobalAvgPool, "gap"),
    (nn.Dropout, "dropout"),
    (nn.Flatten, "flatten"),
    (nn.Softmax, "softmax"),
]


def cnngen_names(model):
    """{PyTorch state_dict name: CnnGen parameter name} for an nn.Sequential."""
    if not isinstance(model, nn.Sequential):
        raise TypeError("cnngen_names expects an nn.Sequential whose modules mirror the CnnGen layers in order")
    counts = {}
    names = {}
    for index, module in model.named_children():
        prefix = next((p for t, p in PREFIX if isinstance(module, t)), None)
        if prefix is None:
            raise TypeError(f"module {index} ({type(module).__name__}) has no CnnGen equivalent")
        counts[prefix] = counts.get(prefix, 0) + 1
        layer = f"{prefix}{counts[prefix]}"
        for pname, _ in module.named_parameters(recurse=False):
            names[f"{index}.{pname}"] = f"{layer}.{pname}"
    return names


def cnngen_state_dict(model):
    """The model's parameters under CnnGen's names, in declaration order, as contiguous float32 CPU tensors."""
    names = cnngen_names(model)
    state = model.state_dict()
    extra = [k for k in state if k not in names]
    if extra:
        raise ValueError(f"state_dict entries without a CnnGen parameter (buffers?): {extra}")
    return {names[k]: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: float32 tensor} in the safetensors format: u64 LE header length, JSON header padded with
    spaces to a multiple of 8, then the little-endian data, contiguous in the given order. Atomic (temp + rename)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if t.dtype != torch.float32:
            raise TypeError(f"{name}: dtype {t.dtype}; CnnGen weight files hold float32")
        data = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_safetensors(path):
    """({name: float32 tensor}, metadata): a minimal reader, used to check what was written."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = flat.reshape(info["shape"])
    return tensors, metadata


def fixture_net_a():
    # Generator.Tests/Numerics/FixtureNetworks.cs:
    # [Network(Channels = 2, Height = 9, Width = 9)]
    # [Conv2D(4, 3, Padding = Pad.Same), ReLU, MaxPool2D(2)]
    # [Conv2D(6, 3, Stride = 2, Padding = 1, Groups = 2), ReLU, AvgPool2D(2, Stride = 1)]
    # [Flatten, Dense(5), Softmax]
    return (2, 9, 9), nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),                      # 0 -> conv1
        nn.ReLU(),                                          # 1    relu1
        nn.MaxPool2d(2),                                    # 2    maxpool1
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),  # 3 -> conv2
        nn.ReLU(),                                          # 4    relu2
        nn.AvgPool2d(2, stride=1),                          # 5    avgpool1
        nn.Flatten(),                                       # 6    flatten1
        nn.Linear(6, 5),                                    # 7 -> dense1
        nn.Softmax(dim=1),                                  # 8    softmax1
    )


def fashion_net():
    # Samples/FashionNet.cs (inference: dropout is the identity in eval mode).
    return (1, 28, 28), nn.Sequential(
        nn.Conv2d(1, 36, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(36, 72, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(72, 144, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(576, 576), nn.ReLU(), nn.Dropout(0.5), nn.Linear(576, 10), nn.Softmax(dim=1),
    )


MODELS = {"FixtureNetA": fixture_net_a, "FashionNet": fashion_net}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--out", default=".", help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4, help="images in the input/output check batch")
    ap.add_argument("--std", type=float, default=None,
                    help="draw every parameter from N(0, std) instead of PyTorch's default initialisation")
    ap.add_argument("--state-dict", default=None,
                    help="load this torch.save'd state_dict (PyTorch names of the nn.Sequential) instead of random weights")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    input_shape, model = MODELS[args.model]()
    if args.state_dict:
        model.load_state_dict(torch.load(args.state_dict, map_location="cpu"))
    elif args.std is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0.0, args.std)
    model.eval()

    tensors = cnngen_state_dict(model)
    metadata = {"network": args.model, "exported_by": "export_pytorch_weights.py", "torch": torch.__version__}
    os.makedirs(args.out, exist_ok=True)
    weights_path = os.path.join(args.out, args.model + ".safetensors")
    write_safetensors(weights_path, tensors, metadata)

    # Read back and compare bit for bit before trusting the file.
    back, back_meta = read_safetensors(weights_path)
    assert list(back) == list(tensors) and back_meta == metadata
    for name, t in tensors.items():
        assert torch.equal(back[name], t), name

    x = torch.randn(args.batch, *input_shape)
    with torch.no_grad():
        y = model(x)
    check = {
        "network": args.model,
        "weights": os.path.basename(weights_path),
        "seed": args.seed,
        "batch": args.batch,
        "input_shape": list(input_shape),
        "input": flat(x),
        "output": flat(y),
    }
    check_path = os.path.join(args.out, args.model + ".exported.json")
    with open(check_path, "w") as f:
        json.dump(check, f)
        f.write("\n")
    for name, t in tensors.items():
        print(f"  {name:16s} {list(t.shape)}")
    print(f"wrote {weights_path} ({os.path.getsize(weights_path)} bytes) and {check_path}")


if __name__ == "__main__":
    main(sys.argv[1:])
