#!/usr/bin/env bash
# Installs the Debian 12 packages keel needs, skipping what is already installed. Idempotent; needs root.
set -euo pipefail
# ocl-icd-opencl-dev: a Recommends of libdnnl-dev that its CMake config (dnnl-config.cmake) requires.
pkgs=(cmake ninja-build g++ pkg-config
      libdnnl-dev ocl-icd-opencl-dev libprotobuf-dev protobuf-compiler libhdf5-dev libboost-serialization-dev
      nlohmann-json3-dev libleveldb-dev libsnappy-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev dataset-fashion-mnist)
[ "${KEEL_WITH_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)
need=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "keel: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "keel: installing packages needs root (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
