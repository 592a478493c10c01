// keel's side of ../shared/peers/WORKLOADS.md: one line per workload in the peer's form, e.g.
//   peer=keel workload=gemm1024 threads=2 gflops=350.1 sgemm_gflops=360.2
//
//   keel-bench-workloads THREADS [NAME...]   NAME selects every workload whose name starts with it
//                                            ("gemm", "mlp", "mlp128_bs32"); none = all.
//
// Workloads are a registry of named functions: add one with a function and a line in workloads().
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "keel/autodiff/backward.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/graph/threads.h"
#include "keel/ops/activation.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/linalg.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Workload {
  const char* name;
  std::function<void(int threads)> run;
};

// 200,000 chained additions of 1-element tensors with recording on, then one backward.
void op_overhead(int threads) {
  using keel::Tensor;
  Tensor a = Tensor::ones({1}).set_requires_grad(), b = Tensor::ones({1});
  const int n = 200000;
  auto t = Clock::now();
  Tensor c = a;
  for (int i = 0; i < n; ++i) c = keel::ops::add(c, b);
  const double fwd = since(t) / n * 1e6;
  t = Clock::now();
  c.backward();
  const double bwd = since(t) / n * 1e6;
  std::printf("peer=keel workload=op_overhead threads=%d recorded_us_per_op=%.3f backward_us_per_node=%.3f\n",
              threads, fwd, bwd);
}

// One 1024x1024 by 1024x1024 f32 product through ops::matmul, and a plain dnnl_sgemm of the same
// size in the same run (the reference for the 95% target). The two alternate in rounds of 10 so that
// both see the same machine load; each figure is its 50 products' total time, like the peer's.
void gemm1024(int threads) {
  using keel::Tensor;
  const int64_t n = 1024;
  const int rounds = 5, reps = 10;
  keel::Generator gen(0);
  Tensor a = Tensor::normal({n, n}, gen), b = Tensor::normal({n, n}, gen), c = Tensor::zeros({n, n});
  auto sgemm = [&] {
    const dnnl_status_t s = dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data<float>(), n, b.data<float>(), n, 0.f,
                                       c.data<float>(), n);
    if (s != dnnl_success) {
      std::fprintf(stderr, "dnnl_sgemm failed (status %d)\n", static_cast<int>(s));
      std::exit(1);
    }
  };
  for (int i = 0; i < 3; ++i) {
    keel::ops::matmul(a, b);
    sgemm();
  }
  double keel_s = 0, sgemm_s = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t = Clock::now();
    for (int i = 0; i < reps; ++i) keel::ops::matmul(a, b);
    keel_s += since(t);
    t = Clock::now();
    for (int i = 0; i < reps; ++i) sgemm();
    sgemm_s += since(t);
  }
  const double flops = 2.0 * n * n * n * rounds * reps;
  std::printf("peer=keel workload=gemm1024 threads=%d gflops=%.1f sgemm_gflops=%.1f\n", threads, flops / keel_s / 1e9,
              flops / sgemm_s / 1e9);
}

// keel only (no peer line): ops::dense with bias and relu fused into the oneDNN matmul, against the
// same layer composed from matmul, add and relu; one forward and backward per step, batch 256.
void dense_fused(int threads) {
  using keel::Tensor;
  keel::Generator gen(0);
  Tensor x = Tensor::uniform({256, 784}, gen);
  Tensor w = Tensor::uniform({784, 128}, gen, -0.1, 0.1).set_requires_grad();
  Tensor b = Tensor::zeros({128}).set_requires_grad();
  Tensor seed = Tensor::ones({256, 128});
  auto fused = [&] { return keel::ops::dense(x, w, b, keel::ops::Activation::relu); };
  auto composed = [&] { return keel::ops::relu(keel::ops::add(keel::ops::matmul(x, w), b)); };
  auto time_us = [&](const std::function<Tensor()>& layer) {
    const int reps = 200;
    for (int i = 0; i < 5; ++i) layer().backward(seed);
    auto t = Clock::now();
    for (int i = 0; i < reps; ++i) layer().backward(seed);
    return since(t) / reps * 1e6;
  };
  double fused_us = 0, composed_us = 0;
  for (int round = 0; round < 3; ++round) {  // alternate, so both see the same load
    fused_us += time_us(fused) / 3;
    composed_us += time_us(composed) / 3;
  }
  std::printf("peer=keel workload=dense_fused threads=%d fused_step_us=%.1f composed_step_us=%.1f\n", threads,
              fused_us, composed_us);
}

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all{
      {"op_overhead", op_overhead},
      {"gemm1024", gemm1024},
      {"dense_fused", dense_fused},
  };
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::atoi(argv[1]) < 1) {
    std::fprintf(stderr, "usage: %s THREADS [NAME...]\nworkloads:", argv[0]);
    for (const auto& w : workloads()) std::fprintf(stderr, " %s", w.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  std::vector<std::string> wanted(argv + 2, argv + argc);
  wanted.erase(std::remove(wanted.begin(), wanted.end(), std::string()), wanted.end());
  for (const auto& w : wanted) {
    bool any = false;
    for (const auto& wl : workloads()) any = any || std::string(wl.name).rfind(w, 0) == 0;
    if (!any) {
      std::fprintf(stderr, "%s: no workload named %s*\n", argv[0], w.c_str());
      return 2;
    }
  }
  keel::set_num_threads(threads);
  for (const auto& wl : workloads()) {
    bool selected = wanted.empty();
    for (const auto& w : wanted) selected = selected || std::string(wl.name).rfind(w, 0) == 0;
    if (!selected) continue;
    try {
      wl.run(threads);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: workload %s failed: %s\n", argv[0], wl.name, e.what());
      return 1;
    }
    std::fflush(stdout);
  }
  return 0;
}
