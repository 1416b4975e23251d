#!/usr/bin/env bash
# CnnGen vs PyTorch on the same shapes, seed net, batches and threads, one after the other:
#   (a) seed-net training, batch 64, 2 threads, SGD, random data, --steps steps
#   (b) seed-net inference, batch 1, 1 and 2 threads
#   (c) each conv shape of the speed issue, forward, forward+backward (with the input gradient), and each backward pass
#       alone (backward-weights; backward-data = full backward minus backward-weights), 1 thread, with % of the FMA peak
#       CnnGen measures at the start of each round
#   (d) the same on 2 threads, each measured in a pair with 1 thread (their samples alternate, so outside load slows
#       both alike), and a 2-thread scaling table; (e) ResNet-18's conv stages at batch 1, 1 and 2 threads. In (d) and
#       (e) an FMA loop and reads of two 4 MiB buffers, each on 1 thread and halved over CnnGen's worker pool of 2, take
#       the same turns: the scaling table's "FMA" and "L3 read" columns, what two cores gave a perfectly parallel job of
#       each kind in those seconds; and a core-to-core hand-off probe (CoreHop), the "hop ns" column
# Usage: bash bench/compare.sh [--quick] [--rounds N] [--steps 30] [--seconds 2]
# --rounds N alternates CnnGen and PyTorch N times and keeps each side's best (lowest) time per line, which damps
# noise from other processes on the machine. Raw lines go to bench/compare-raw.txt.
# ratio = CnnGen speed / PyTorch speed (= PyTorch ms / CnnGen ms): above 1 CnnGen is faster.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --quick) args+=(--quick); shift ;;
    --steps|--seconds) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

dotnet build bench/CnnGen.Bench -c Release -v quiet -nologo >/dev/null
raw=bench/compare-raw.txt
: > "$raw"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds: CnnGen" >&2
  dotnet run -c Release --no-build --project bench/CnnGen.Bench -- compare "${args[@]}" | sed 's/^/cnngen /' >> "$raw"
  echo "round $r/$rounds: PyTorch" >&2
  /usr/bin/python3 bench/pytorch_layers.py "${args[@]}" | sed 's/^/pytorch /' >> "$raw"
done

/usr/bin/python3 - "$raw" <<'PY'
import sys
import statistics
best, order, notes, rounds = {}, [], [], {}
for ln in open(sys.argv[1]):
    side, rest = ln.split(" ", 1)
    if rest.startswith("#"):
        notes.append(f"{side}: {rest[1:].strip()}")
        continue
    _, key, ms, flops, images = rest.split()
    rounds.setdefault((side, key), []).append(float(ms))  # every round's value, in round order
    if key not in order:
        order.append(key)
    d = best.setdefault(key, {})
    if side not in d or float(ms) < d[side][0]:
        d[side] = (float(ms), float(flops), int(images))
for n in dict.fromkeys(notes):
    print("#", n)
# the 1-thread FMA peak CnnGen measured (best of its rounds); 1-thread conv lines get their share of it
# the machine's own scaling lines (MachineScalingWorkload), shown as columns of the scaling table, not as rows
REFS = ("fmaref/", "readref/", "hopref/")  # hopref lines carry ns per core-to-core hand-off where others carry ms
peak = None
if "fma/peak/t1" in best and "cnngen" in best["fma/peak/t1"]:
    ms, flops, _ = best["fma/peak/t1"]["cnngen"]
    peak = flops / ms * 1e-6
    print(f"# FMA peak, 1 thread, measured in this run: {peak:.1f} GFLOP/s")
print(f"| {'case':44} | {'CnnGen ms':>10} | {'PyTorch ms':>10} | {'CnnGen':>14} | {'PyTorch':>14} | {'ratio':>6} | {'%peak':>13} |")
print(f"|{'-'*46}|{'-'*11}:|{'-'*11}:|{'-'*15}:|{'-'*15}:|{'-'*7}:|{'-'*14}:|")
def rate(ms, flops, images, conv):
    return f"{flops / ms * 1e-6:8.2f} GFLOP/s" if conv else f"{images / ms * 1e3:8.1f} img/s"
for key in order:
    d = best[key]
    if "cnngen" not in d or "pytorch" not in d or key.endswith("/pair1") or key.startswith(REFS):
        continue
    (cm, f, i), (pm, _, _) = d["cnngen"], d["pytorch"]
    conv = key.startswith("conv/")
    share = f"{f / cm * 1e-4 / peak:5.1f} / {f / pm * 1e-4 / peak:5.1f}" if conv and peak and key.endswith("/t1") else ""
    print(f"| {key:44} | {cm:10.3f} | {pm:10.3f} | {rate(cm, f, i, conv):>14} | {rate(pm, f, i, conv):>14} | {pm / cm:6.3f} | {share:>13} |")
print()
print("%peak: CnnGen / PyTorch GFLOP/s as a percentage of the FMA peak above (1-thread lines; Winograd layers count the")
print("direct convolution's FLOPs, so they can exceed 100). bwdw = backward-weights alone, bwdd = backward-data")
print("(full backward minus backward-weights).")
print()
print("2-thread scaling (1-thread ms / 2-thread ms, same side). Conv layers of (d): 1- and 2-thread samples alternate in one")
print("pair per round (pair1 / t2), the median of the rounds' ratios; other lines: best 1-thread / best 2-thread ms.")
print("FMA, L3 read: in CnnGen's process, an FMA loop (no memory traffic) and sums over two 4 MiB buffers, each on 1 thread")
print("and halved over its worker pool of 2, took the same turns as the line's pair: the scaling two cores gave a perfectly")
print("parallel job of each kind in those seconds (median of the rounds). hop: ns per core-to-core hand-off in the same")
print("turns (CoreHop; every round's value): 30-45 when the VM's two vCPUs share an L3, 200-250 when they do not, and")
print("then every line whose workers share data (a batch-1 team most) runs slower.")
print(f"| {'case':44} | {'CnnGen':>7} | {'PyTorch':>7} | {'FMA':>7} | {'L3 read':>7} | {'hop ns':>11} |")
print(f"|{'-'*46}|{'-'*8}:|{'-'*8}:|{'-'*8}:|{'-'*8}:|{'-'*12}:|")
def scaling(side, key):
    pair, two = rounds.get((side, key[:-2] + "pair1")), rounds.get((side, key))
    if pair and two:
        return statistics.median(p / t for p, t in zip(pair, two))
    one = best.get(key[:-1] + "1", {})
    return one[side][0] / best[key][side][0] if side in one and side in best[key] else None
for key in order:
    if key.startswith(REFS) or not key.endswith("/t2") or (key[:-1] + "1" not in best and key[:-2] + "pair1" not in best):
        continue
    values = [scaling("cnngen", key), scaling("pytorch", key)]
    values += [scaling("cnngen", ref + key) if ref + key in best else None for ref in REFS[:2]]
    cells = [f"{v:7.2f}" if v is not None else f"{'-':>7}" for v in values]
    hops = rounds.get(("cnngen", "hopref/" + key), [])
    cells.append(f"{' / '.join(f'{h:.0f}' for h in hops) or '-':>11}")
    print(f"| {key[:-3]:44} | {' | '.join(cells)} |")
PY
