#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for N seconds (default 60) from a
# seed corpus made from ../shared/fixtures. Two fuzzers run at a time. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-60}
KEEL_WITH_FUZZ=1 bash scripts/deps.sh
cmake -S . -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEEL_BUILD_FUZZERS=ON -DKEEL_BUILD_TESTS=OFF \
  -DKEEL_BUILD_BENCH=OFF -DKEEL_BUILD_EXAMPLES=OFF >/dev/null
fuzzers=()
for src in checkpoint/fuzz/fuzz_*.cpp; do fuzzers+=("$(basename "$src" .cpp)"); done
cmake --build build/fuzz -j "$(nproc)" --target make_fuzz_seeds "${fuzzers[@]}"
out=build/fuzz/run
rm -rf "$out" && mkdir -p "$out"
build/fuzz/checkpoint/fuzz/make_fuzz_seeds "$out/corpus" >/dev/null
run_one() {
  local f=$1 corpus="$out/corpus/${1#fuzz_}"
  mkdir -p "$corpus" "$out/$f.artifacts"
  if build/fuzz/checkpoint/fuzz/"$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$out/$f.artifacts/" "$corpus" >"$out/$f.log" 2>&1; then
    # libFuzzer's last line is "Done N runs in S second(s)" (a "#N" count may also occur in its dictionary).
    echo "fuzz $f: clean for ${secs}s ($(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$f.log" | tail -1) runs)"
  else
    echo "fuzz $f: FAILED"; tail -40 "$out/$f.log"; return 1
  fi
}
status=0
pids=()
for f in "${fuzzers[@]}"; do
  run_one "$f" & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
