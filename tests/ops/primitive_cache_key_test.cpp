// oneDNN primitives are cached by a key string; float attributes (eltwise alpha/beta, normalization epsilon)
// must be keyed by their exact bits. These tests run an op with one parameter and then with another that
// prints equally with 6 decimals, and compare the second result with a plain reference.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/backward.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/losses.h"
#include "keel/ops/normalization.h"
#include "keel/ops/reduce.h"
#include "test_util.h"

using namespace keel;
using keel::test::rnd;
using keel::test::values;

namespace {

constexpr int64_t kLarge = 1 << 15;  // f32 and >= kDnnlMin: the oneDNN eltwise path

TEST(PrimitiveCacheKey, ClipBoundsThatPrintEquallyGetTheirOwnPrimitive) {
  Tensor z = Tensor::zeros({kLarge});
  Tensor first = ops::clip(z, 0.0, 1.0);
  Tensor second = ops::clip(z, 1e-7, 1 - 1e-7);
  EXPECT_EQ(first.data<float>()[0], 0.f);
  for (float v : second.to_vector<float>()) ASSERT_EQ(v, 1e-7f);
}

TEST(PrimitiveCacheKey, ScalarMulByTinyFactorAfterMulByZero) {
  Tensor x = rnd({kLarge}, DType::f32, 1, 2);
  ops::mul(x, 0.0);
  Tensor y = ops::mul(x, 4e-7);
  const auto xv = x.to_vector<float>();
  const auto yv = y.to_vector<float>();
  for (size_t i = 0; i < xv.size(); ++i) ASSERT_NEAR(yv[i], xv[i] * 4e-7, 1e-12) << i;
}

TEST(PrimitiveCacheKey, MeanGradientScalesByItsOwnCount) {
  // Both backward passes scale by 1/r with a oneDNN linear eltwise over 2^22 elements; 1/2^22 and 1/2^21
  // both print as 0.000000.
  Tensor x1 = Tensor::zeros({1 << 22}).set_requires_grad(true);
  auto g1 = grad(ops::mean(x1), {x1});
  Tensor x2 = Tensor::zeros({2, 1 << 21}).set_requires_grad(true);
  auto g2 = grad(ops::sum(ops::mean(x2, {1})), {x2});
  EXPECT_FLOAT_EQ(g1[0].data<float>()[0], 1.f / (1 << 22));
  EXPECT_FLOAT_EQ(g2[0].data<float>()[0], 1.f / (1 << 21));
  EXPECT_FLOAT_EQ(g2[0].data<float>()[(1 << 22) - 1], 1.f / (1 << 21));
}

TEST(PrimitiveCacheKey, CrossentropyOnProbabilitiesAfterAnUnrelatedClip) {
  // categorical_crossentropy(from_logits=false) clips the probabilities to [1e-7, 1 - 1e-7].
  Tensor probs = Tensor::zeros({256, 64});
  Tensor target = Tensor::zeros({256, 64});
  for (int i = 0; i < 256; ++i) {
    probs.data<float>()[i * 64 + i % 64] = 1.f;
    target.data<float>()[i * 64 + (i + 1) % 64] = 1.f;  // every prediction wrong
  }
  ops::clip(probs, 0.0, 1.0);
  const double loss = ops::mean(ops::categorical_crossentropy(probs, target, false)).item<double>();
  EXPECT_NEAR(loss, -std::log(1e-7), 1e-3);
}

// Per-row (layer) or per-column (batch) normalization in double, biased variance, no scale or shift.
std::vector<double> reference_norm(const Tensor& x, bool per_column, double eps) {
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  const auto v = values(x);
  std::vector<double> y(v.size());
  const int64_t groups = per_column ? cols : rows, count = per_column ? rows : cols;
  for (int64_t g = 0; g < groups; ++g) {
    auto at = [&](int64_t k) { return per_column ? k * cols + g : g * cols + k; };
    double m = 0, var = 0;
    for (int64_t k = 0; k < count; ++k) m += v[at(k)] / count;
    for (int64_t k = 0; k < count; ++k) var += (v[at(k)] - m) * (v[at(k)] - m) / count;
    for (int64_t k = 0; k < count; ++k) y[at(k)] = (v[at(k)] - m) / std::sqrt(var + eps);
  }
  return y;
}

Tensor tiny_variance_input() {
  Tensor x = Tensor::zeros({4, 8});
  for (int i = 0; i < 32; ++i) x.data<float>()[i] = static_cast<float>((i % 2) * 1e-4 + (i / 8 % 2) * 1e-4);
  return x;
}

TEST(PrimitiveCacheKey, LayerNormEpsilonsThatPrintEqually) {
  Tensor x = tiny_variance_input();  // per-row variance 2.5e-9, far below eps: eps decides the output
  ops::layer_norm(x, Tensor(), Tensor(), 1e-7);
  Tensor y = ops::layer_norm(x, Tensor(), Tensor(), 4e-7);
  keel::test::expect_near(y, reference_norm(x, false, 4e-7), 1e-4, 1e-6, "layer_norm eps 4e-7");
}

TEST(PrimitiveCacheKey, BatchNormEpsilonsThatPrintEqually) {
  Tensor x = tiny_variance_input();
  Variable mm("mm", Tensor::zeros({8})), mv("mv", Tensor::ones({8}));
  ops::BatchNormParams p{.training = true, .momentum = 0.99, .epsilon = 1e-7};
  ops::batch_norm(x, Tensor(), Tensor(), mm, mv, p);
  p.epsilon = 4e-7;
  Tensor y = ops::batch_norm(x, Tensor(), Tensor(), mm, mv, p);
  keel::test::expect_near(y, reference_norm(x, true, 4e-7), 1e-4, 1e-6, "batch_norm eps 4e-7");
}

}  // namespace
