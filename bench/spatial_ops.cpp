// Micro-benchmarks of the spatial/sequence ops at the shapes of the lstm_bs64 and cnn workloads
// (forward + backward of the op chain only: no Dense layers, loss or optimizer).
//
//   keel-bench-spatial_ops [threads] [lstm|cnn]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "keel/graph/generator.h"
#include "keel/graph/variable.h"
#include "keel/ops/conv.h"
#include "keel/ops/embedding.h"
#include "keel/ops/lstm.h"
#include "keel/ops/normalization.h"
#include "keel/ops/pool.h"

using namespace keel;
using Clock = std::chrono::steady_clock;
static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  omp_set_num_threads(threads);
  const std::string only = argc > 2 ? argv[2] : "";
  Generator gen(1);
  if (only.empty() || only == "lstm") {  // Embedding(5000, 32) -> LSTM(100) last output, batch 64, sequence 200; 20 steps, no warm-up.
    Tensor table = Tensor::uniform({5000, 32}, gen, -0.05, 0.05).set_requires_grad(true);
    Tensor w = Tensor::uniform({32, 400}, gen, -0.1, 0.1).set_requires_grad(true);
    Tensor r = Tensor::uniform({100, 400}, gen, -0.1, 0.1).set_requires_grad(true);
    Tensor b = Tensor::zeros({400}).set_requires_grad(true);
    Tensor ids = Tensor::empty({64, 200}, DType::i64);
    for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = static_cast<int64_t>(gen.next_below(5000));
    Tensor seed = Tensor::uniform({64, 100}, gen, -1, 1);
    const int steps = 20;
    auto t = Clock::now();
    for (int i = 0; i < steps; ++i) {
      auto out = ops::lstm(ops::embedding(table, ids), w, r, b, Tensor(), Tensor(), false);
      out.output.backward(seed);
    }
    std::printf("peer=keel workload=lstm_core_bs64 threads=%d train_samples_per_s=%.0f\n", threads, steps * 64 / since(t));
  }
  if (only.empty() || only == "cnn") {  // Conv2D(16, 3x3, relu) -> MaxPool(4x4) -> BatchNorm on 28x28x1, batch 32 and 256.
    for (int bs : {32, 256}) {
      Tensor x = Tensor::uniform({bs, 28, 28, 1}, gen, 0, 1);
      Tensor k = Tensor::uniform({3, 3, 1, 16}, gen, -0.3, 0.3).set_requires_grad(true);
      Tensor cb = Tensor::zeros({16}).set_requires_grad(true);
      Tensor gamma = Tensor::ones({16}).set_requires_grad(true), beta = Tensor::zeros({16}).set_requires_grad(true);
      Variable mm("moving_mean", Tensor::zeros({16}), false), mv("moving_variance", Tensor::ones({16}), false);
      Tensor seed = Tensor::uniform({bs, 6, 6, 16}, gen, -1, 1);
      const int steps = 60000 / bs / 4;
      auto t = Clock::now();
      for (int i = 0; i < steps; ++i) {
        Tensor y = ops::conv2d(x, k, cb, ops::Conv2DParams().activation(ops::Activation::relu));
        y = ops::batch_norm(ops::max_pool2d(y, ops::Pool2DParams().pool(4, 4)), gamma, beta, mm, mv,
                            {true, 0.99, 1e-3});
        y.backward(seed);
      }
      std::printf("peer=keel workload=cnn_core_bs%d threads=%d train_samples_per_s=%.0f\n", bs, threads,
                  steps * bs / since(t));
    }
  }
  return 0;
}
