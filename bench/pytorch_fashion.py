#!/usr/bin/python3
"""PyTorch reference for the main job: the seed-004 network (as Samples/FashionNet.cs declares it) trained on
Fashion-MNIST with the same recipe as `CnnGen.Samples train` (Adam, per-epoch cosine decay to 10%, batch 64).
Used to compare accuracy per epoch and images/s side by side. Run with Debian's python3-torch:
    /usr/bin/python3 bench/pytorch_fashion.py --epochs 5 --batch 64 --lr 0.001 --threads 2
"""
import argparse, gzip, math, struct, time
import numpy as np
import torch
import torch.nn as nn


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, 1, rows, cols).astype(np.float32) / 255.0
    return np.frombuffer(data, np.uint8, offset=8).astype(np.int64)


def seed_net():
    return nn.Sequential(
        nn.Conv2d(1, 36, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(36, 72, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(72, 144, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(576, 576), nn.ReLU(), nn.Dropout(0.5), nn.Linear(576, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = torch.from_numpy(idx(f"{a.data}/train-images-idx3-ubyte.gz"))
    ytr = torch.from_numpy(idx(f"{a.data}/train-labels-idx1-ubyte.gz"))
    xte = torch.from_numpy(idx(f"{a.data}/t10k-images-idx3-ubyte.gz"))
    yte = torch.from_numpy(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz"))
    net = seed_net()
    print(f"parameters {sum(p.numel() for p in net.parameters()):,}")
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, a.epochs + 1):
        lr = a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / max(1, a.epochs - 1))))
        for g in opt.param_groups:
            g["lr"] = lr
        net.train()
        perm = torch.randperm(len(xtr))
        start, total, correct, seen = time.perf_counter(), 0.0, 0, 0
        for i in range(0, len(xtr), a.batch):
            idx_ = perm[i:i + a.batch]
            x, y = xtr[idx_], ytr[idx_]
            opt.zero_grad()
            out = net(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
        secs = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
        print(f"epoch {epoch}/{a.epochs}  loss {total / seen:.4f}  train {100 * correct / seen:.2f}%  test {100 * acc:.2f}%  "
              f"{seen / secs:.0f} img/s  {secs:.1f} s  lr {lr:.3g}", flush=True)


if __name__ == "__main__":
    main()
