#!/usr/bin/env bash
# Publishes CnnGen.Predict as a NativeAOT executable: Samples.Predict/bin/aot/CnnGen.Predict (one file, no .NET
# needed to run it). Installs the native toolchain NativeAOT links with (clang, zlib1g-dev) when it is missing.
# Any trim/AOT warning fails the publish (-warnaserror).
#   Samples.Predict/publish-aot.sh [extra dotnet publish arguments, e.g. -p:IlcInstructionSet=native]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "=== installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends clang zlib1g-dev
fi

rid="${RID:-linux-x64}"
out="$here/bin/aot"
echo "=== dotnet publish -c Release -r $rid -> $out"
dotnet publish "$here/CnnGen.Predict.csproj" -c Release -r "$rid" -o "$out" -warnaserror "$@"
ls -l "$out/CnnGen.Predict"
echo "Run: $out/CnnGen.Predict --init weights.safetensors   (untrained weights, to try it)"
echo "     $out/CnnGen.Predict weights.safetensors --index 0"
