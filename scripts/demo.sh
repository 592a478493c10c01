#!/usr/bin/env bash
# Runs keel's main demo: builds keel (RelWithDebInfo) and runs the demo program on Fashion-MNIST.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
demo=${KEEL_DEMO:-checkpoint_demo}
cmake --build build/release -j "$(nproc)" --target "keel-example-$demo"
exec "build/release/examples/keel-example-$demo" "$@"
