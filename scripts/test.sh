#!/usr/bin/env bash
# Builds keel and runs every test: the RelWithDebInfo build, the AddressSanitizer + UBSan build,
# the installed-package consumer, and the fuzzers (60 s each). Usage: scripts/test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KEEL_WITH_FUZZ=1 bash scripts/deps.sh
jobs=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# ctest runs two test processes at once, each with two OpenMP threads, on two cores: threads that spin
# while waiting (GNU OpenMP's default) steal the cores the other process needs. Passive waiting is
# several times faster for the suite (see README, "Threads").
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
status=0

# Each section line carries the time since the start, so a CI log shows what each stage cost.
section() { printf '\n==== %s (at %dm%02ds)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

section "release build (RelWithDebInfo)"
# Line tables only (-g1): backtraces keep file:line, and the build takes about a third less time than
# with full debug info (tests/keras_layers/model_test.cpp: 11.5 s against 17.5 s at -O2).
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build/release -j "$jobs"
(cd build/release && ctest -j "$jobs" --timeout 600) || status=1

section "sanitizer build (ASan + UBSan)"
# The library at -O1, the test programs at -O0: they compile ~30% faster (keras_layers/model_test.cpp
# 13.9 s against 20.1 s) and the suite runs no slower (106 s against 112 s), their work being in the library.
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEEL_SANITIZE=ON \
  -DKEEL_BUILD_BENCH=OFF -DKEEL_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="-O1" -DCMAKE_CXX_FLAGS_DEBUG="-g1" \
  -DKEEL_TEST_COMPILE_OPTIONS=-O0 >/dev/null
cmake --build build/asan -j "$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions="$root/tests/lsan.supp":print_suppressions=0 \
  ctest -j "$jobs" --timeout 900) || status=1

if [ -f checkpoint/fuzz/CMakeLists.txt ]; then
  section "fuzzers (clang, libFuzzer, ${KEEL_FUZZ_SECONDS:-60} s each)"
  bash scripts/fuzz.sh "${KEEL_FUZZ_SECONDS:-60}" || status=1
fi

section "summary"
if [ $status -eq 0 ]; then echo "keel: all test stages passed"; else echo "keel: some test stage FAILED"; fi
exit $status
