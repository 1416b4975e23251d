#!/usr/bin/python3
"""PyTorch half of bench/zoo_compare.sh: times a torchvision model's forward (eval mode, no_grad) or one training step
(train mode, cross-entropy, SGD momentum 0.9) on random data, median of >= 20 ms samples, printed as the samples'
`time` command prints it.  /usr/bin/python3 bench/pytorch_zoo.py --model resnet18 --batch 1 --threads 2 --mode forward
"""
import argparse, time
import torch
import torch.nn as nn
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--model", default="resnet18")
p.add_argument("--batch", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--mode", choices=["forward", "train"], default="forward")
p.add_argument("--seconds", type=float, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(5)
net = getattr(torchvision.models, a.model)()
x = torch.rand(a.batch, 3, 224, 224) * 2 - 1
y = torch.arange(a.batch) % 1000
if a.mode == "forward":
    net.eval()
    def call():
        with torch.no_grad():
            net(x)
else:
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    def call():
        opt.zero_grad(set_to_none=False)
        out = net(x)
        if isinstance(out, tuple): out = out[0]
        loss_fn(out, y).backward()
        opt.step()

start, calls = time.perf_counter(), 0
while calls < 5 or (time.perf_counter() - start < 1.0 and calls < 1000):
    call(); calls += 1
once = (time.perf_counter() - start) / calls
inner = max(1, int(0.02 / once))
samples, start = [], time.perf_counter()
while len(samples) < 3 or (time.perf_counter() - start < a.seconds and len(samples) < 200):
    t0 = time.perf_counter()
    for _ in range(inner): call()
    samples.append((time.perf_counter() - t0) * 1e3 / inner)
samples.sort()
m = samples[len(samples) // 2]
print(f"RESULT {a.model} {a.mode} batch {a.batch} threads {a.threads} median {m:.3f} ms best {samples[0]:.3f} ms "
      f"({a.batch * 1000 / m:.1f} img/s, {len(samples)} samples, torch {torch.__version__})", flush=True)
