#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/ops/activation.h"
#include "test_util.h"

using namespace keel;
using namespace keel::test;

namespace {

double sig(double x) { return 1 / (1 + std::exp(-x)); }

struct Case {
  const char* name;
  std::function<double(double)> ref;
};

std::vector<Case> cases() {
  return {{"relu", [](double x) { return x > 0 ? x : 0; }},
          {"sigmoid", sig},
          {"tanh", [](double x) { return std::tanh(x); }},
          {"elu", [](double x) { return x > 0 ? x : std::exp(x) - 1; }},
          {"softplus", [](double x) { return std::log(1 + std::exp(x)); }},
          {"softsign", [](double x) { return x / (1 + std::abs(x)); }},
          {"swish", [](double x) { return x * sig(x); }},
          {"gelu", [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
          {"exponential", [](double x) { return std::exp(x); }},
          {"linear", [](double x) { return x; }}};
}

// Reference softmax along `axis` by explicit index walking.
std::vector<double> ref_softmax(const Tensor& x, int64_t axis, bool log) {
  const Shape& s = x.shape();
  const auto v = values(x);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  const int64_t C = s[axis];
  std::vector<double> r(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double m = -1e300, z = 0;
      for (int64_t c = 0; c < C; ++c) m = std::max(m, v[(o * C + c) * inner + i]);
      for (int64_t c = 0; c < C; ++c) z += std::exp(v[(o * C + c) * inner + i] - m);
      for (int64_t c = 0; c < C; ++c) {
        const double t = v[(o * C + c) * inner + i] - m;
        r[(o * C + c) * inner + i] = log ? t - std::log(z) : std::exp(t) / z;
      }
    }
  return r;
}

}  // namespace

TEST(Activation, ForwardMatchesReferenceAndGradients) {
  for (const auto& c : cases()) {
    const auto act = ops::activation_from_name(c.name);
    EXPECT_STREQ(ops::activation_name(act), c.name);
    for (const Shape& s : {Shape{3, 5}, Shape{}, Shape{0}}) {
      Tensor x = rnd(s, DType::f64, -3, 3);
      std::vector<double> want;
      for (double v : values(x)) want.push_back(c.ref(v));
      expect_near(ops::activate(x, act), want, 1e-13, 1e-15, c.name);
      expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::activate(in[0], act); }, {x}, c.name);
    }
    for (const Shape& s : {Shape{70000}, Shape{65}}) {  // oneDNN path and plain path in f32
      Tensor x = rnd(s, DType::f32, -5, 5, 3);
      std::vector<double> want;
      for (double v : values(x)) want.push_back(c.ref(v));
      expect_near(ops::activate(x, act), want, 1e-5, 1e-6, std::string(c.name) + " f32 " + shape_str(s));
    }
  }
}

TEST(Activation, StableAtExtremes) {
  Tensor x = Tensor::from_vector<double>({-800, -40, 0, 40, 800});
  expect_near(ops::sigmoid(x), {0, sig(-40), 0.5, sig(40), 1}, 1e-15);
  expect_near(ops::softplus(x), {0, std::log1p(std::exp(-40)), std::log(2.0), 40, 800}, 1e-15);
  Tensor big = Tensor::from_vector<float>({1000, 1001, 1002});
  expect_near(ops::softmax(big), ref_softmax(big, 0, false), 1e-6);
  expect_near(ops::log_softmax(big), ref_softmax(big, 0, true), 1e-6);
}

TEST(Activation, SoftmaxAnyAxis) {
  for (int64_t axis : {0, 1, 2, -1})
    for (bool log : {false, true}) {
      Tensor x = rnd({3, 4, 5}, DType::f64, -3, 3, 5);
      const int64_t a = axis < 0 ? axis + 3 : axis;
      Tensor y = log ? ops::log_softmax(x, axis) : ops::softmax(x, axis);
      expect_near(y, ref_softmax(x, a, log), 1e-14, 1e-15);
      expect_grad_ok([&](const std::vector<Tensor>& in) {
        return log ? ops::log_softmax(in[0], axis) : ops::softmax(in[0], axis);
      }, {x}, "softmax axis " + std::to_string(axis));
    }
  // oneDNN path (f32, large) along the last and a middle axis.
  for (int64_t axis : {-1, 1}) {
    Tensor x = rnd({64, 40, 30}, DType::f32, -5, 5, 6);
    const int64_t a = axis < 0 ? 2 : axis;
    expect_near(ops::softmax(x, axis), ref_softmax(x, a, false), 1e-5, 1e-7, "dnnl softmax");
    expect_near(ops::log_softmax(x, axis), ref_softmax(x, a, true), 1e-5, 1e-5, "dnnl log_softmax");
  }
}

TEST(Activation, EluAlphaAndErrors) {
  Tensor x = rnd({4}, DType::f64);
  std::vector<double> want;
  for (double v : values(x)) want.push_back(v > 0 ? v : 0.3 * (std::exp(v) - 1));
  expect_near(ops::elu(x, 0.3), want, 1e-14);
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::elu(in[0], 0.3); }, {x}, "elu");
  EXPECT_EQ(error_of([] { ops::activation_from_name("relux"); }), "unknown activation 'relux' (known: linear, relu, sigmoid, tanh, softmax, elu, softplus, softsign, swish, "
            "gelu, exponential)");
  EXPECT_EQ(ops::activation_from_name(""), ops::Activation::linear);
  EXPECT_EQ(ops::activation_from_name("silu"), ops::Activation::swish);
  EXPECT_EQ(error_of([] { ops::softmax(Tensor::zeros({2, 3}), 2); }), "softmax: axis 2 is out of range for rank 2");
  EXPECT_EQ(error_of([] { ops::relu(Tensor::zeros({2}, DType::i64)); }),
            "relu: dtype i64 is not floating point (f32 or f64)");
}

TEST(Activation, LogSoftmaxIsNeverPositiveOnTheOneDnnPath) {
  // [512, 10] f32 takes oneDNN's softmax_log; the dominant logit's log-probability is 0 in exact
  // arithmetic (the others are below -900) and oneDNN rounded it to +1.4e-6.
  Tensor x = Tensor::zeros({512, 10});
  for (int64_t i = 0; i < 512; ++i)
    for (int k = 0; k < 10; ++k) x.data<float>()[i * 10 + k] = k == 3 ? 1000.f : static_cast<float>(k * 10);
  Tensor y = ops::log_softmax(x);
  const auto want = ref_softmax(x, 1, true);
  const auto got = values(y);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_LE(got[i], 0.0) << "at " << i;
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::abs(want[i]) + 1e-6) << "at " << i;
  }
  for (int64_t i = 0; i < 512; ++i) ASSERT_EQ(y.data<float>()[i * 10 + 3], 0.f) << "row " << i;
}

TEST(Activation, NaNPropagatesOnBothPaths) {
  // 100 elements take the plain kernels, 40,000 oneDNN's eltwise (relu and clip are max/min there, and
  // exp returned inf). TensorFlow returns NaN for NaN through every activation.
  for (int64_t n : {int64_t{100}, int64_t{40000}}) {
    Tensor x = rnd({n}, DType::f32, -3, 3, 8);
    x.data<float>()[5] = std::nanf("");
    for (const auto& c : cases()) {
      Tensor y = ops::activate(x, ops::activation_from_name(c.name));
      EXPECT_TRUE(std::isnan(y.data<float>()[5])) << c.name << " n=" << n;
      EXPECT_NEAR(y.data<float>()[6], c.ref(x.data<float>()[6]), 1e-4 * (1 + std::abs(c.ref(x.data<float>()[6]))))
          << c.name << " n=" << n;
    }
  }
}
