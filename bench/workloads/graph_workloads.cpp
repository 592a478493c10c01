// Workloads written against the graph API (Tensors, ops, backward()), no Keras layers:
//   op_overhead, gemm1024 (WORKLOADS.md), dense_fused (keel only) and lstm_graph_bs64 (keel only: the
//   lstm_bs64 model as raw ops and keras::Adam, to measure what the Keras layer API and fit() cost).
#include <oneapi/dnnl/dnnl.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "keel/autodiff/backward.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/graph/variable.h"
#include "keel/keras/optimizers/adam.h"
#include "keel/ops/activation.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/embedding.h"
#include "keel/ops/linalg.h"
#include "keel/ops/losses.h"
#include "keel/ops/lstm.h"
#include "keel/ops/reduce.h"
#include "workload.h"

namespace keel::bench {

namespace {

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

// lstm_bs64 as raw ops: Embedding(5000, 32) -> LSTM(100), last output -> Dense(1, sigmoid); binary
// cross-entropy; random ids, sequence 200, batch 64; 20 steps, no warm-up.
void lstm_graph_bs64(int threads) {
  using keel::Tensor;
  using keel::Variable;
  keel::Generator gen(7);
  auto uniform = [&](const char* name, keel::Shape s, double lim) {
    return Variable(name, Tensor::uniform(s, gen, -lim, lim));
  };
  const std::vector<Variable> vars{uniform("embeddings", {5000, 32}, 0.05), uniform("kernel", {32, 400}, 0.1),
                                   uniform("recurrent_kernel", {100, 400}, 0.1), Variable("bias", Tensor::zeros({400})),
                                   uniform("dense/kernel", {100, 1}, 0.2), Variable("dense/bias", Tensor::zeros({1}))};
  std::vector<Tensor> sources;
  for (const auto& v : vars) sources.push_back(v.value());
  keel::keras::Adam opt;  // Keras's defaults: lr 1e-3
  const int bs = 64, steps = 20;
  Tensor ids = Tensor::empty({bs, 200}, keel::DType::i64), y = Tensor::empty({bs, 1});
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = static_cast<int64_t>(gen.next_below(5000));
  for (int64_t i = 0; i < bs; ++i) y.data<float>()[i] = static_cast<float>(gen.next_below(2));
  auto t = Clock::now();
  for (int i = 0; i < steps; ++i) {
    auto r = keel::ops::lstm(keel::ops::embedding(sources[0], ids), sources[1], sources[2], sources[3], Tensor(),
                             Tensor(), false);
    Tensor p = keel::ops::dense(r.output, sources[4], sources[5], keel::ops::Activation::sigmoid);
    opt.apply_gradients(keel::grad(keel::ops::mean(keel::ops::binary_crossentropy(p, y)), sources), vars);
  }
  std::printf("peer=keel workload=lstm_graph_bs64 threads=%d train_samples_per_s=%.0f\n", threads,
              steps * bs / since(t));
}

}  // namespace

std::vector<Workload> graph_workloads() {
  return {
      {"op_overhead", op_overhead},
      {"gemm1024", gemm1024},
      {"dense_fused", dense_fused},
      {"lstm_graph_bs64", lstm_graph_bs64},
  };
}

}  // namespace keel::bench
