#!/usr/bin/python3
"""PyTorch half of bench/compare.sh: the same keys, shapes, batches and threads as
`dotnet run -c Release --project bench/CnnGen.Bench -- compare`, printed as `RESULT <key> <ms> <flops> <images>`.
Run with Debian's python3-torch:  /usr/bin/python3 bench/pytorch_layers.py [--quick] [--steps 30] [--seconds 2]
"""
import argparse, time
import torch
import torch.nn as nn

# (N, Cin, H, W, Cout, k, s, p): the speed issue's shapes, in the order of bench/CnnGen.Bench/Shapes.cs.
SHAPES = [
    (64, 36, 14, 14, 72, 3, 1, 1),
    (1, 64, 56, 56, 64, 3, 1, 1),
    (16, 64, 56, 56, 64, 3, 1, 1),
    (16, 128, 28, 28, 128, 3, 1, 1),
    (16, 256, 14, 14, 256, 3, 1, 1),
    (16, 3, 224, 224, 64, 7, 2, 3),
    (16, 256, 56, 56, 64, 1, 1, 0),
]
# ResNet-18's conv stages at batch 1 (bench/CnnGen.Bench/Shapes.cs BatchOne), forward on 1 and 2 threads.
BATCH_ONE = [
    (1, 3, 224, 224, 64, 7, 2, 3),
    (1, 64, 56, 56, 64, 3, 1, 1),
    (1, 128, 28, 28, 128, 3, 1, 1),
    (1, 256, 14, 14, 256, 3, 1, 1),
    (1, 512, 7, 7, 512, 3, 1, 1),
]
QUICK = {"64x36x14x14-72k3s1p1", "16x128x28x28-128k3s1p1", "16x256x56x56-64k1s1p0"}
FASHION_FLOPS_PER_IMAGE = 14993280  # FashionNet.FlopsPerImage (generator's count, 2 per multiply-add)


def seed_net():
    return nn.Sequential(
        nn.Conv2d(1, 36, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(36, 72, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(72, 144, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(576, 576), nn.ReLU(), nn.Dropout(0.5), nn.Linear(576, 10))


def key(s):
    n, c, h, w, co, k, st, p = s
    return f"{n}x{c}x{h}x{w}-{co}k{k}s{st}p{p}"


def line(k, ms, flops, images):
    print(f"RESULT {k} {ms:.4f} {flops:.0f} {images}", flush=True)


def inner_calls(fn):
    """Warms fn up (at least 2 calls, up to 0.3 s or 1000 calls); returns how many calls make a sample of about 20 ms,
    as Compare.InnerCalls."""
    start, calls = time.perf_counter(), 0
    while calls < 2 or (time.perf_counter() - start < 0.3 and calls < 1000):
        fn()
        calls += 1
    return max(1, int(0.02 / ((time.perf_counter() - start) / calls)))


def add_sample(fn, inner, samples):
    """Times inner calls and appends the ms per call to samples, as Compare.AddSample."""
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    samples.append((time.perf_counter() - t0) * 1e3 / inner)


def measure(fn, seconds):
    """Median ms per call: warm up, then samples of >= 20 ms each until ~seconds (at least 3), as Compare.Measure."""
    inner = inner_calls(fn)
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < seconds:
        add_sample(fn, inner, samples)
        if len(samples) >= 200:
            break
    samples.sort()
    return samples[len(samples) // 2]


def measure_pair(fn, seconds):
    """Median ms per call on 1 and on 2 threads, taking turns for about 2 x seconds, as Compare.MeasurePair: each turn
    runs 0.1 s unrecorded (after torch.set_num_threads PyTorch needs 3-4 calls to reach its steady speed again), then
    records samples of >= 20 ms for 0.2 s. Both thread counts see the same stretches of outside load."""
    inner = {}
    for t in (1, 2):
        torch.set_num_threads(t)
        inner[t] = inner_calls(fn)
    samples, start, turns = {1: [], 2: []}, time.perf_counter(), 0
    while turns < 3 or time.perf_counter() - start < 2 * seconds:
        for t in (1, 2):
            torch.set_num_threads(t)
            t0 = time.perf_counter()
            while True:
                fn()
                if time.perf_counter() - t0 >= 0.1:
                    break
            t1 = time.perf_counter()
            while True:
                add_sample(fn, inner[t], samples[t])
                if time.perf_counter() - t1 >= 0.2:
                    break
        turns += 1
    return tuple(sorted(samples[t])[len(samples[t]) // 2] for t in (1, 2))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--quick", action="store_true")
    a.add_argument("--steps", type=int, default=30)
    a.add_argument("--seconds", type=float, default=2.0)
    a = a.parse_args()
    torch.manual_seed(1)
    print(f"# pytorch {torch.__version__} mkldnn={torch.backends.mkldnn.is_available()} "
          f"capability={torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, 'cpu') else '?'}")

    # (a) seed net training: batch 64, 2 threads, SGD, random data, fixed number of steps.
    torch.set_num_threads(2)
    net = seed_net().train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    for _ in range(200):  # the same warm-up as CnnGen's side (whose tiered JIT needs it: 20 steps left 13.0 ms, 200 11.7)
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    line("seed/train/b64/t2", (time.perf_counter() - t0) * 1e3 / a.steps, 3.0 * 64 * FASHION_FLOPS_PER_IMAGE, 64)

    # (b) seed net inference, batch 1, eval mode, no autograd.
    net.eval()
    x1 = torch.rand(1, 1, 28, 28)
    with torch.no_grad():
        one, two = measure_pair(lambda: net(x1), a.seconds)
    line("seed/infer/b1/t1", one, FASHION_FLOPS_PER_IMAGE, 1)
    line("seed/infer/b1/pair1", one, FASHION_FLOPS_PER_IMAGE, 1)
    line("seed/infer/b1/t2", two, FASHION_FLOPS_PER_IMAGE, 1)

    # (c) conv layers, 1 thread: forward (no autograd) and forward + backward with the input gradient;
    # (d) the same on 2 threads, each in a pair with 1 thread; (e) ResNet-18's stages at batch 1, forward, 1 and 2 threads.
    selected = [s for s in SHAPES if not a.quick or key(s) in QUICK]
    for threads, shapes in ((1, selected), (2, selected), (None, BATCH_ONE)):
        for s in shapes:
            n, c, h, w, co, k, st, p = s
            conv = nn.Conv2d(c, co, k, stride=st, padding=p)
            xin = (torch.rand(n, c, h, w) * 0.2 - 0.1).requires_grad_(True)
            oh, ow = (h - k + 2 * p) // st + 1, (w - k + 2 * p) // st + 1
            flops = 2.0 * n * co * oh * ow * c * k * k
            dy = torch.rand(n, co, oh, ow) * 0.2 - 0.1

            def fwd():
                with torch.no_grad():
                    conv(xin)

            def fwdbwd():
                xin.grad = None
                conv(xin).backward(dy)
            if threads is None:
                # ResNet-18's batch-1 stages: 1 and 2 threads in a pair
                one, two = measure_pair(fwd, a.seconds)
                line(f"conv/{key(s)}/fwd/t1", one, flops, n)
                line(f"conv/{key(s)}/fwd/pair1", one, flops, n)
                line(f"conv/{key(s)}/fwd/t2", two, flops, n)
                continue
            if threads == 2:
                # 2 threads, each pass in a pair with 1 thread (alternating samples; scaling = pair1 ms / t2 ms)
                for name, fn, f in (("fwd", fwd, flops), ("fwdbwd", fwdbwd, 3 * flops)):
                    one, two = measure_pair(fn, a.seconds)
                    line(f"conv/{key(s)}/{name}/pair1", one, f, n)
                    line(f"conv/{key(s)}/{name}/t2", two, f, n)
                continue
            torch.set_num_threads(1)
            line(f"conv/{key(s)}/fwd/t1", measure(fwd, a.seconds), flops, n)
            line(f"conv/{key(s)}/fwdbwd/t1", measure(fwdbwd, a.seconds), 3 * flops, n)
            # each backward pass alone on one forward's graph, as CnnGen's Compare: backward-weights (grad of weight
            # and bias only: convolution_backward skips dx), and backward-data as the difference between the full
            # backward (input, weight, bias) and backward-weights
            y = conv(xin)
            params = [conv.weight, conv.bias]
            weights = measure(lambda: torch.autograd.grad(y, params, dy, retain_graph=True), a.seconds)
            both = measure(lambda: torch.autograd.grad(y, [xin] + params, dy, retain_graph=True), a.seconds)
            line(f"conv/{key(s)}/bwdw/t1", weights, flops, n)
            line(f"conv/{key(s)}/bwdd/t1", max(both - weights, 1e-6), flops, n)

if __name__ == "__main__":
    main()
