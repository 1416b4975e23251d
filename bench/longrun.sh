#!/usr/bin/env bash
# Long-run stability: trains the seed net (`--model fashion`) on Fashion-MNIST for 20 epochs (batch 64, Adam, 2 threads)
# and watches memory: the train command prints the process working set and the managed heap after every epoch, and
# this script samples the process's resident set (VmRSS) every 5 s from /proc. At the end it prints one line per epoch
# and a verdict: no NaN/inf loss, and resident memory after the last epoch within 5% of that after epoch 2.
# Usage: bash bench/longrun.sh [--epochs N] [other train options]. Output: bench/longrun-log.txt, bench/longrun-rss.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

epochs=20
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

dotnet build Samples -c Release -v quiet -nologo >/dev/null
log=bench/longrun-log.txt
rss=bench/longrun-rss.txt
mkdir -p artifacts
# Run from a copy, so that rebuilding the repository during the hour-long run cannot pull the binaries from under it.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cp -r Samples/bin/Release/net10.0/. "$bin/"
dotnet "$bin/CnnGen.Samples.dll" train --model fashion --epochs "$epochs" --batch 64 --threads 2 \
  --save artifacts/longrun.safetensors "${args[@]}" > "$log" 2>&1 &
pid=$!
start=$(date +%s)
echo "# seconds VmRSS_kB VmHWM_kB (pid $pid)" > "$rss"
printed=0
while kill -0 "$pid" 2>/dev/null; do
  if [[ -r /proc/$pid/status ]]; then
    now=$(( $(date +%s) - start ))
    awk -v t="$now" '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {if (r) print t, r, h}' "/proc/$pid/status" >> "$rss" 2>/dev/null || true
  fi
  lines=$(grep -c '^epoch ' "$log" || true)
  if (( lines > printed )); then grep '^epoch ' "$log" | tail -n +$((printed + 1)); printed=$lines; fi
  sleep 5
done
wait "$pid" || { echo "training failed:"; tail -20 "$log"; exit 1; }
grep '^epoch ' "$log" | tail -n +$((printed + 1)) || true

/usr/bin/python3 - "$log" "$rss" <<'PY'
import re, sys
log, rss = sys.argv[1], sys.argv[2]
epochs = []
for ln in open(log):
    m = re.match(r"epoch (\d+)/(\d+)\s+loss (\S+)\s+train (\S+)%\s+test (\S+)%\s+(\d+) img/s\s+(\S+) s\s+lr \S+\s+mem (\d+) MiB \(managed (\S+) MiB\)", ln)
    if m:
        epochs.append(dict(epoch=int(m[1]), loss=float(m[3]), test=float(m[5]), ips=int(m[6]), mem=int(m[8]), managed=float(m[9])))
samples = [tuple(map(int, l.split())) for l in open(rss) if not l.startswith("#")]
if not epochs:
    sys.exit("no epoch lines in " + log)
print(f"\n{'epoch':>5} {'loss':>8} {'test %':>7} {'img/s':>6} {'RSS MiB':>8} {'managed MiB':>12}")
for e in epochs:
    print(f"{e['epoch']:>5} {e['loss']:>8.4f} {e['test']:>7.2f} {e['ips']:>6} {e['mem']:>8} {e['managed']:>12.1f}")
finite = all(e["loss"] == e["loss"] and abs(e["loss"]) != float("inf") for e in epochs)
base = epochs[1]["mem"] if len(epochs) > 1 else epochs[0]["mem"]
growth = (epochs[-1]["mem"] - base) / base
peak = max((s[2] for s in samples), default=0) / 1024
print(f"\nresident set sampled {len(samples)} times: min {min(s[1] for s in samples)/1024:.0f} MiB, max {max(s[1] for s in samples)/1024:.0f} MiB, peak (VmHWM) {peak:.0f} MiB")
print(f"after epoch 2: {base} MiB, after epoch {epochs[-1]['epoch']}: {epochs[-1]['mem']} MiB ({growth*100:+.1f}%); managed heap {min(e['managed'] for e in epochs):.1f}-{max(e['managed'] for e in epochs):.1f} MiB")
ok = finite and abs(growth) <= 0.05
print("verdict:", "OK (finite losses, flat memory)" if ok else "FAIL" + ("" if finite else " (non-finite loss)") + ("" if abs(growth) <= 0.05 else " (memory grew)"))
sys.exit(0 if ok else 1)
PY
