#!/usr/bin/env bash
# Trains the main job's network (FashionResNet, a small ResNet) on Fashion-MNIST: installs the data set (Debian package) when it is missing,
# checks for the .NET SDK, then runs the samples' `train` command. Every argument is passed on, e.g.
#   bash train.sh --model fashion --epochs 5 --batch 64 --optimizer adam --data DIR
set -euo pipefail
cd "$(dirname "$0")"

data_dir_given=false
for arg in "$@"; do
    case "$arg" in --data|--data=*) data_dir_given=true ;; esac
done

debian_dir=/usr/share/datasets/fashion-mnist
if [[ "$data_dir_given" == false && -z "${CNNGEN_DATA:-}" && ! -d "$debian_dir" ]]; then
    echo "Fashion-MNIST is not in $debian_dir; installing the Debian package dataset-fashion-mnist." >&2
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get is not available. Download the four files from https://github.com/zalandoresearch/fashion-mnist" >&2
        echo "into a directory DIR and run: bash train.sh --data DIR" >&2
        exit 3
    fi
    sudo=""
    if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
    # wait up to 10 minutes for a lock another apt-get holds (it failed at once beside a running CI otherwise)
    $sudo apt-get -o DPkg::Lock::Timeout=600 update
    $sudo apt-get -o DPkg::Lock::Timeout=600 install -y dataset-fashion-mnist
fi

if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET SDK (dotnet, version 10) is not installed." >&2
    echo "Install the .NET 10 SDK as described at https://learn.microsoft.com/dotnet/core/install/linux" >&2
    echo "(on Debian/Ubuntu the package is dotnet-sdk-10.0), then run this script again." >&2
    exit 1
fi

exec dotnet run -c Release --project Samples -- train "$@"
