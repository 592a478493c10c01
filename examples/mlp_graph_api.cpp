// A two-layer MLP on Fashion-MNIST written against the graph API only: Variables, raw ops, a
// GradientTape and a hand-written SGD step. No keras layers.
//
//   784 -> Dense(128, relu) -> Dense(10) logits, sparse categorical cross-entropy from logits,
//   SGD (lr 0.1, batch 32), 2 epochs over the 60,000 training images in a fresh shuffled order each.
//
// Usage: keel-example-mlp_graph_api [EPOCHS]   (default 2) Prints per-epoch loss and test accuracy;
// exits 1 when, after 2 or more epochs, the final test accuracy is below 0.84 (fewer epochs: no check).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/graph/variable.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/ops/activation.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/linalg.h"
#include "keel/ops/losses.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"
#include "positional_args.h"

using keel::Tensor;
using keel::Variable;
namespace ops = keel::ops;

namespace {

// u8 [N,28,28] -> f32 [N,784] in [0, 1].
Tensor to_features(const Tensor& images) {
  return ops::div(ops::reshape(images.to(keel::DType::f32), {images.size(0), 784}), 255.0);
}

// Glorot-uniform, like Keras's default kernel initializer.
Variable glorot(const char* name, int64_t fan_in, int64_t fan_out, keel::Generator& gen) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return Variable(name, Tensor::uniform({fan_in, fan_out}, gen, -limit, limit));
}

struct Mlp {
  Variable w1, b1, w2, b2;
  std::vector<Variable> variables() const { return {w1, b1, w2, b2}; }
  Tensor logits(const Tensor& x) const {
    Tensor h = ops::relu(ops::add(ops::matmul(x, w1.value()), b1.value()));
    return ops::add(ops::matmul(h, w2.value()), b2.value());
  }
};

double accuracy(const Mlp& model, const Tensor& x, const Tensor& labels) {
  keel::NoGradGuard no_grad;
  const Tensor predicted = ops::argmax(model.logits(x), -1);
  const int64_t* p = predicted.data<int64_t>();
  const int64_t* y = labels.data<int64_t>();
  int64_t right = 0;
  for (int64_t i = 0; i < labels.numel(); ++i) right += p[i] == y[i];
  return static_cast<double>(right) / static_cast<double>(labels.numel());
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage = "keel-example-mlp_graph_api [EPOCHS]";
  positional_args_at_most(argc, argv, 1, usage);
  const int epochs = static_cast<int>(positional_arg(argc, argv, 1, 2, usage));
  const int64_t batch = 32;
  const double lr = 0.1;
  try {
    auto data = keel::datasets::fashion_mnist::load_data();
    const Tensor x_train = to_features(data.x_train), x_test = to_features(data.x_test);
    const Tensor y_train = data.y_train.to(keel::DType::i64), y_test = data.y_test.to(keel::DType::i64);
    const int64_t n = x_train.size(0);

    keel::Generator gen(42);
    Mlp model{glorot("dense/kernel", 784, 128, gen), Variable("dense/bias", Tensor::zeros({128})),
              glorot("dense_1/kernel", 128, 10, gen), Variable("dense_1/bias", Tensor::zeros({10}))};

    std::vector<int64_t> order(static_cast<size_t>(n));
    double acc = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      std::iota(order.begin(), order.end(), int64_t{0});
      for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[gen.next_below(i + 1)]);
      double loss_sum = 0;
      int64_t steps = 0;
      for (int64_t begin = 0; begin < n; begin += batch) {
        const int64_t size = std::min(batch, n - begin);
        const Tensor ids = Tensor::from_vector<int64_t>(
            std::vector<int64_t>(order.begin() + begin, order.begin() + begin + size), {size});
        const Tensor xb = ops::gather(x_train, ids, 0), yb = ops::gather(y_train, ids, 0);

        keel::GradientTape tape;
        const Tensor loss = ops::mean(ops::sparse_categorical_crossentropy(model.logits(xb), yb, true));
        const auto grads = tape.gradient(loss, model.variables());
        {
          keel::NoGradGuard no_grad;  // w -= lr * g
          const auto vars = model.variables();
          for (size_t i = 0; i < vars.size(); ++i) vars[i].assign(ops::sub(vars[i].value(), ops::mul(grads[i], lr)));
        }
        loss_sum += loss.item<double>();
        ++steps;
      }
      acc = accuracy(model, x_test, y_test);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d/%d  loss %.4f  test accuracy %.4f  (%.1f s)\n", epoch, epochs, loss_sum / steps, acc,
                  secs);
      std::fflush(stdout);
    }
    if (epochs >= 2 && acc < 0.84) {
      std::printf("test accuracy %.4f is below 0.84\n", acc);
      return 1;
    }
  } catch (const keel::Error& e) {
    std::fprintf(stderr, "mlp_graph_api: %s\n", e.what());
    return 1;
  }
  return 0;
}
