#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/backward.h"
#include "keel/ops/activation.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/losses.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"
#include "test_util.h"

using namespace keel;
using namespace keel::test;

namespace {
constexpr double kEps = 1e-7;
double clipp(double p) { return std::min(1 - kEps, std::max(kEps, p)); }
}  // namespace

TEST(Losses, SparseCategoricalFromLogitsAndProbabilities) {
  Tensor logits = rnd({4, 5}, DType::f64, -3, 3);
  Tensor labels = Tensor::from_vector<int64_t>({0, 4, 2, 2});
  const auto v = values(logits);
  std::vector<double> want, want_p;
  Tensor probs = ops::softmax(logits);
  const auto pv = values(probs);
  for (int n = 0; n < 4; ++n) {
    double m = -1e300, z = 0, zp = 0;
    for (int c = 0; c < 5; ++c) m = std::max(m, v[n * 5 + c]);
    for (int c = 0; c < 5; ++c) z += std::exp(v[n * 5 + c] - m), zp += clipp(pv[n * 5 + c]);
    const int64_t l = labels.to_vector<int64_t>()[n];
    want.push_back(-(v[n * 5 + l] - m - std::log(z)));
    want_p.push_back(-std::log(clipp(pv[n * 5 + l]) / zp));
  }
  expect_near(ops::sparse_categorical_crossentropy(logits, labels, true), want, 1e-13);
  expect_near(ops::sparse_categorical_crossentropy(probs, labels, false), want_p, 1e-12);
  // i32 labels, f32 labels holding integers, labels with a trailing 1.
  expect_near(ops::sparse_categorical_crossentropy(logits, labels.to(DType::i32), true), want, 1e-13);
  expect_near(ops::sparse_categorical_crossentropy(logits, labels.to(DType::f32).view({4, 1}), true), want, 1e-13);
  // Class axis in the middle.
  Tensor l3 = ops::permute(logits.view({4, 5, 1}), {0, 1, 2});
  expect_near(ops::sparse_categorical_crossentropy(l3, labels.view({4, 1}), true, 1), want, 1e-13);
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::sparse_categorical_crossentropy(in[0], labels, true); },
                 {logits}, "scce logits");
  expect_grad_ok([&](const std::vector<Tensor>& in) {
    return ops::sparse_categorical_crossentropy(ops::softmax(in[0]), labels, false);
  }, {logits}, "scce probs");
}

TEST(Losses, GradientFromLogitsIsSoftmaxMinusOneHot) {
  Tensor logits = rnd({3, 4}, DType::f64, -2, 2).set_requires_grad();
  Tensor labels = Tensor::from_vector<int32_t>({3, 1, 0});
  Tensor onehot = ops::one_hot(labels, 4, DType::f64);
  const auto want = values(ops::sub(ops::softmax(logits.detach()), onehot));
  auto g1 = grad(ops::sum(ops::sparse_categorical_crossentropy(logits, labels, true)), {logits});
  expect_near(g1[0], want, 1e-12, 1e-14, "sparse");
  auto g2 = grad(ops::sum(ops::categorical_crossentropy(logits, onehot, true)), {logits});
  expect_near(g2[0], want, 1e-12, 1e-14, "categorical");
}

TEST(Losses, CategoricalAndBinary) {
  Tensor p = ops::softmax(rnd({3, 4}, DType::f64, -2, 2, 4));
  Tensor t = ops::softmax(rnd({3, 4}, DType::f64, -2, 2, 5));
  std::vector<double> want;
  for (int n = 0; n < 3; ++n) {
    double s = 0;
    for (int c = 0; c < 4; ++c) s -= t.at<double>({n, c}) * std::log(clipp(p.at<double>({n, c})));
    want.push_back(s);
  }
  expect_near(ops::categorical_crossentropy(p, t), want, 1e-13);
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::categorical_crossentropy(in[0], in[1]); },
                 {p, t}, "cce");

  Tensor x = Tensor::from_vector<double>({-30, -1, 0, 2, 50, 0.5}, {2, 3});
  Tensor y = Tensor::from_vector<double>({0, 1, 1, 0, 1, 0.25}, {2, 3});
  std::vector<double> logit_want, prob_want;
  for (int n = 0; n < 2; ++n) {
    double sl = 0, sp = 0;
    for (int c = 0; c < 3; ++c) {
      const double xv = x.at<double>({n, c}), yv = y.at<double>({n, c});
      sl += std::max(xv, 0.0) - xv * yv + std::log1p(std::exp(-std::abs(xv)));
      const double pv = clipp(1 / (1 + std::exp(-xv)));
      sp -= yv * std::log(pv + kEps) + (1 - yv) * std::log(1 - pv + kEps);
    }
    logit_want.push_back(sl / 3);
    prob_want.push_back(sp / 3);
  }
  expect_near(ops::binary_crossentropy(x, y, true), logit_want, 1e-13);
  expect_near(ops::binary_crossentropy(ops::sigmoid(x), y, false), prob_want, 1e-12);
  Tensor xs = rnd({2, 3}, DType::f64, -3, 3);
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::binary_crossentropy(in[0], in[1], true); },
                 {xs, y}, "bce logits");
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::binary_crossentropy(ops::sigmoid(in[0]), y); },
                 {xs}, "bce probs");
  // Gradient from logits is sigmoid(x) - y, also at x = 0.
  Tensor z = Tensor::zeros({1, 1}, DType::f64).set_requires_grad();
  ops::sum(ops::binary_crossentropy(z, Tensor::ones({1, 1}, DType::f64), true)).backward();
  EXPECT_NEAR(z.grad().item<double>(), -0.5, 1e-15);
}

TEST(Losses, Regression) {
  Tensor a = rnd({2, 3}, DType::f64, -1, 1, 1), b = rnd({2, 3}, DType::f64, -1, 1, 2);
  std::vector<double> mse, mae;
  for (int n = 0; n < 2; ++n) {
    double s = 0, t = 0;
    for (int c = 0; c < 3; ++c) {
      const double d = a.at<double>({n, c}) - b.at<double>({n, c});
      s += d * d, t += std::abs(d);
    }
    mse.push_back(s / 3), mae.push_back(t / 3);
  }
  expect_near(ops::mean_squared_error(a, b), mse, 1e-14);
  expect_near(ops::mean_absolute_error(a, b), mae, 1e-14);
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::mean_squared_error(in[0], in[1]); }, {a, b}, "mse");
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::mean_absolute_error(in[0], in[1]); }, {a, b}, "mae");
}

TEST(Losses, Errors) {
  Tensor logits = Tensor::zeros({2, 10});
  EXPECT_EQ(error_of([&] { ops::sparse_categorical_crossentropy(logits, Tensor::from_vector<int64_t>({1, 10}), true); }),
            "sparse_categorical_crossentropy: label 10 is out of range for 10 classes");
  EXPECT_EQ(error_of([&] { ops::sparse_categorical_crossentropy(logits, Tensor::from_vector<int32_t>({-1, 0}), true); }),
            "sparse_categorical_crossentropy: label -1 is out of range for 10 classes");
  EXPECT_EQ(error_of([&] { ops::sparse_categorical_crossentropy(logits, Tensor::from_vector<float>({1.5, 0}), true); }),
            "sparse_categorical_crossentropy: label 1.5 is not an integer");
  EXPECT_EQ(error_of([&] { ops::sparse_categorical_crossentropy(logits, Tensor::from_vector<int32_t>({1, 2, 3})); }),
            "sparse_categorical_crossentropy: labels [3] do not match predictions [2,10] (class axis 1)");
  EXPECT_EQ(error_of([&] { ops::categorical_crossentropy(logits, Tensor::zeros({2, 9})); }),
            "categorical_crossentropy: target [2,9] and prediction [2,10] differ in shape");
  EXPECT_EQ(error_of([&] { ops::mean_squared_error(Tensor::zeros({2}, DType::i32), Tensor::zeros({2})); }),
            "mean_squared_error: prediction must be f32 or f64, got i32");
}
