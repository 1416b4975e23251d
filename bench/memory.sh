#!/usr/bin/env bash
# Static memory plan vs what the process really uses (issue: peak within 1.2x of the plan). For each network the
# samples' `memory` command constructs it, trains a few SGD steps on random data, runs a Forward, and prints the
# generated plan (PlannedBytes), the native bytes the constructor allocated, the optimizer state, and the growth of
# the resident set (VmRSS/VmHWM from /proc) over the baseline before construction.
# Usage: bash bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build Samples -c Release -v quiet -nologo >/dev/null
run() { dotnet Samples/bin/Release/net10.0/CnnGen.Samples.dll memory "$@"; echo; }
run --model fashion --batch 64 --threads 2 --steps 20
run --model fashion-resnet --batch 32 --threads 2 --steps 10
run --model resnet18 --batch 8 --threads 2 --steps 3
