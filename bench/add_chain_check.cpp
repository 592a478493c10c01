// Hand-run micro-check (not a test, not the official benchmark): the op_overhead workload of
// /work/shared/peers/WORKLOADS.md. Chains 200,000 recorded additions of 1-element tensors, then one
// backward, and prints microseconds per recorded op and per backward node.
//
//   ./build/bench/keel-bench-add_chain_check [n]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "keel/autodiff/backward.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"

namespace {
// CPU time of this thread: wall time is meaningless on a machine shared with other jobs.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  for (int rep = 0; rep < 3; ++rep) {
    keel::Tensor a = keel::Tensor::ones({1}).set_requires_grad(), b = keel::Tensor::ones({1});
    const double c0 = cpu_seconds();
    auto t0 = Clock::now();
    keel::Tensor c = a;
    for (int i = 0; i < n; ++i) c = c + b;
    auto t1 = Clock::now();
    const double c1 = cpu_seconds();
    keel::ops::sum(c).backward();
    auto t2 = Clock::now();
    const double c2 = cpu_seconds();
    const double fwd = std::chrono::duration<double>(t1 - t0).count() / n * 1e6;
    const double bwd = std::chrono::duration<double>(t2 - t1).count() / n * 1e6;
    std::printf("keel op_overhead n=%d wall: recorded_us_per_op=%.3f backward_us_per_node=%.3f  cpu: %.3f %.3f  grad=%g\n",
                n, fwd, bwd, (c1 - c0) / n * 1e6, (c2 - c1) / n * 1e6, a.grad().item<double>());
  }
  return 0;
}
