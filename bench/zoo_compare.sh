#!/usr/bin/env bash
# CnnGen vs PyTorch (torchvision) on whole zoo networks, one after the other with the same batch, threads and random
# 224x224 data: ResNet-18 inference at batch 1 and a training step at batch 8 (the speed issue's cases), 2 threads.
# --rounds N alternates the two sides N times and keeps each side's best median. Ratio = PyTorch ms / CnnGen ms.
# Usage: bash bench/zoo_compare.sh [--rounds 2] [--model resnet18]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=1; model=resnet18
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
dotnet build Samples -c Release -v quiet -nologo >/dev/null
raw=bench/zoo-compare-raw.txt
: > "$raw"
cases=("forward 1" "train 8")
for ((r = 1; r <= rounds; r++)); do
  for c in "${cases[@]}"; do
    set -- $c
    echo "round $r/$rounds: $model $1 batch $2" >&2
    dotnet Samples/bin/Release/net10.0/CnnGen.Samples.dll time --model "$model" --mode "$1" --batch "$2" --threads 2 | grep '^RESULT' | sed 's/^/cnngen /' >> "$raw"
    /usr/bin/python3 bench/pytorch_zoo.py --model "$model" --mode "$1" --batch "$2" --threads 2 | grep '^RESULT' | sed 's/^/pytorch /' >> "$raw"
  done
done
/usr/bin/python3 - "$raw" <<'PY'
import sys
best = {}
for ln in open(sys.argv[1]):
    f = ln.split()
    side, key, ms = f[0], (f[2], f[3], f[5], f[7]), float(f[9])
    best[(side, key)] = min(ms, best.get((side, key), float("inf")))
print(f"{'model':<10} {'mode':<8} {'batch':>5} {'threads':>7} {'CnnGen ms':>10} {'PyTorch ms':>10} {'CnnGen/PyTorch time':>20}")
for (side, key), ms in sorted(best.items()):
    if side != "cnngen" or ("pytorch", key) not in best: continue
    pt = best[("pytorch", key)]
    print(f"{key[0]:<10} {key[1]:<8} {key[2]:>5} {key[3]:>7} {ms:>10.2f} {pt:>10.2f} {ms / pt:>20.2f}")
PY
