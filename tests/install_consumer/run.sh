#!/usr/bin/env bash
# ctest driver: installs the build tree at $1 into a fresh prefix, builds the consumer and every installed
# header against it, runs the consumer.
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# Every installed header, in one translation unit: each must compile with what the package gives a
# consumer (no generated protobuf headers, no HDF5 or oneDNN headers).
(cd "$work/prefix/include" && find keel -name '*.h' | sort | sed 's/.*/#include <&>/') >"$work/all_headers.cpp"
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DKEEL_ALL_HEADERS="$work/all_headers.cpp" >/dev/null
cmake --build "$work/build" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/consumer"
