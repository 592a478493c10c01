#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "keel/graph/threads.h"
#include "keel/ops/reduce.h"
#include "test_util.h"

using namespace keel;
using namespace keel::test;

namespace {

enum class R { sum, mean, max, min };

// Plain reference: walk every input element and fold it into its output slot.
std::vector<double> ref_reduce(const Tensor& x, std::vector<int64_t> axes, R kind, Shape* out_shape) {
  const Shape& s = x.shape();
  const int64_t rank = static_cast<int64_t>(s.size());
  std::vector<bool> red(rank, axes.empty());
  for (int64_t a : axes) red[a < 0 ? a + rank : a] = true;
  Shape keep;
  for (int64_t d = 0; d < rank; ++d) keep.push_back(red[d] ? 1 : s[d]);
  int64_t n_out = 1;
  for (int64_t d : keep) n_out *= d;
  std::vector<double> acc(n_out, kind == R::max ? -1e300 : kind == R::min ? 1e300 : 0);
  std::vector<int64_t> count(n_out, 0);
  const auto v = values(x);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t o = ravel_broadcast(idx, keep);
    for (int64_t d = rank - 1; d >= 0 && ++idx[d] == s[d]; --d) idx[d] = 0;
    if (kind == R::max) acc[o] = std::max(acc[o], v[i]);
    else if (kind == R::min) acc[o] = std::min(acc[o], v[i]);
    else acc[o] += v[i];
    ++count[o];
  }
  if (kind == R::mean)
    for (int64_t o = 0; o < n_out; ++o) acc[o] /= static_cast<double>(count[o]);
  *out_shape = keep;
  return acc;
}

Tensor run(R kind, const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  switch (kind) {
    case R::sum: return ops::sum(x, axes, keepdims);
    case R::mean: return ops::mean(x, axes, keepdims);
    case R::max: return ops::max(x, axes, keepdims);
    case R::min: return ops::min(x, axes, keepdims);
  }
  return {};
}

const std::vector<std::pair<Shape, std::vector<int64_t>>> kCases = {
    {{2, 3, 4}, {}},     {{2, 3, 4}, {0}},    {{2, 3, 4}, {1}},  {{2, 3, 4}, {-1}}, {{2, 3, 4}, {0, 2}},
    {{2, 3, 4}, {0, 1}}, {{2, 1, 4}, {1}},    {{5}, {0}},        {{}, {}},          {{3, 1, 2, 5}, {1, 3}},
    {{2, 3, 4, 2}, {0, 2}}, {{0, 3}, {1}}};

}  // namespace

TEST(Reduce, MatchesReferenceWithAndWithoutKeepdims) {
  for (R kind : {R::sum, R::mean, R::max, R::min})
    for (const auto& [shape, axes] : kCases)
      for (bool keepdims : {false, true}) {
        Tensor x = rnd(shape, DType::f64, -3, 3, 9);
        Shape keep;
        auto want = ref_reduce(x, axes, kind, &keep);
        Tensor y = run(kind, x, axes, keepdims);
        const std::string what = std::to_string(static_cast<int>(kind)) + " " + shape_str(shape);
        if (keepdims) {
          EXPECT_EQ(y.shape(), keep) << what;
        }
        expect_near(y, want, 1e-14, 1e-14, what);
      }
}

TEST(Reduce, LargeF32MatchesReference) {
  // Above the oneDNN threshold ([k1, r, k2] patterns) and a permuted pattern, and one long full sum.
  for (R kind : {R::sum, R::mean, R::max, R::min})
    for (const auto& [shape, axes] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
             {{300, 256}, {1}}, {{300, 256}, {0}}, {{20, 64, 60}, {1}}, {{20, 64, 60}, {0, 2}}, {{100000}, {}}}) {
      Tensor x = rnd(shape, DType::f32, -3, 3, 10);
      Shape keep;
      auto want = ref_reduce(x, axes, kind, &keep);
      expect_near(run(kind, x, axes, false), want, 1e-5, 1e-3, "large " + shape_str(shape));
    }
}

TEST(Reduce, DeterministicAtFixedThreadCount) {
  Tensor x = rnd({200000}, DType::f32, -1, 1, 3);
  Tensor y = rnd({300, 2000}, DType::f64, -1, 1, 4);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    EXPECT_TRUE(ops::sum(x).equal(ops::sum(x)));
    EXPECT_TRUE(ops::sum(y, {0}).equal(ops::sum(y, {0})));
  }
  set_num_threads(2);
}

TEST(Reduce, Gradients) {
  for (R kind : {R::sum, R::mean, R::max, R::min})
    for (const auto& [shape, axes] : kCases)
      for (bool keepdims : {false, true}) {
        if (shape == Shape{0, 3} && (kind == R::max || kind == R::min)) continue;
        expect_grad_ok([&](const std::vector<Tensor>& in) { return run(kind, in[0], axes, keepdims); },
                       {rnd(shape, DType::f64, -3, 3, 12)}, shape_str(shape));
      }
}

TEST(Reduce, MaxGradientGoesToFirstMaximum) {
  Tensor x = Tensor::from_vector<double>({1, 3, 3, 2, 2, 0}, {2, 3}).set_requires_grad();
  ops::sum(ops::max(x, {1})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

TEST(Reduce, SumToAndBroadcastTo) {
  Tensor x = rnd({2, 3, 4}, DType::f64);
  Tensor s = ops::sum_to(x, {3, 1});
  EXPECT_EQ(s.shape(), (Shape{3, 1}));
  Shape keep;
  expect_near(s, ref_reduce(x, {0, 2}, R::sum, &keep), 1e-14);
  EXPECT_TRUE(ops::sum_to(x, {2, 3, 4}).same_storage(x));
  Tensor b = ops::broadcast_to(Tensor::from_vector<double>({1, 2}, {2, 1}), {3, 2, 2});
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2}));
  for (const Shape& to : {Shape{3, 1}, Shape{4}, Shape{1, 1, 1}, Shape{}, Shape{2, 1, 4}})
    expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::sum_to(in[0], to); }, {x}, "sum_to");
  for (const Shape& from : {Shape{3, 1}, Shape{4}, Shape{}, Shape{2, 1, 4}})
    expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::broadcast_to(in[0], {2, 3, 4}); },
                   {rnd(from, DType::f64)}, "broadcast_to");
}

TEST(Reduce, Errors) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { ops::sum(x, {2}); }), "sum: axis 2 is out of range for rank 2");
  EXPECT_EQ(error_of([&] { ops::sum_to(x, {4}); }), "sum_to: cannot sum [2,3] to [4]");
  EXPECT_EQ(error_of([&] { ops::broadcast_to(x, {3, 3}); }), "broadcast_to: cannot broadcast [2,3] to [3,3]");
  EXPECT_EQ(error_of([&] { ops::max(Tensor::zeros({0, 3}), {0}); }),
            "max: cannot reduce an empty axis of [0,3] (no identity for max/min)");
  EXPECT_EQ(ops::sum(Tensor::zeros({0, 3}), {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(Reduce, MaxMinPropagateNaNOnBothPaths) {
  // 100 elements take the plain kernel, 20,000 oneDNN's reduction (which drops NaN by itself).
  for (int64_t n : {int64_t{100}, int64_t{20000}}) {
    Tensor x = rnd({n}, DType::f32, -1, 1, 3);
    x.data<float>()[n / 3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(ops::max(x).item<double>())) << n;
    EXPECT_TRUE(std::isnan(ops::min(x).item<double>())) << n;
    // Along an axis: only the column holding the NaN is NaN; the others match a plain reference.
    Tensor m = rnd({n / 4, 4}, DType::f32, -1, 1, 4);
    m.data<float>()[4 * 7 + 1] = std::numeric_limits<float>::quiet_NaN();
    const auto v = values(m);
    std::vector<double> want_max(4, -1e300), want_min(4, 1e300);
    for (size_t i = 0; i < v.size(); ++i) {
      double& hi = want_max[i % 4];
      double& lo = want_min[i % 4];
      hi = std::isnan(hi) || std::isnan(v[i]) ? std::nan("") : std::max(hi, v[i]);
      lo = std::isnan(lo) || std::isnan(v[i]) ? std::nan("") : std::min(lo, v[i]);
    }
    expect_near(ops::max(m, {0}), want_max, 0, 0, "max axis 0");
    expect_near(ops::min(m, {0}), want_min, 0, 0, "min axis 0");
  }
}

TEST(Reduce, MeanOverAnEmptyAxisIsNaN) {
  // NumPy and TensorFlow: the mean of no elements is 0/0.
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor m = ops::mean(Tensor::zeros({0, 3}, dt), {0});
    ASSERT_EQ(m.shape(), (Shape{3}));
    for (double v : values(m)) EXPECT_TRUE(std::isnan(v));
    EXPECT_TRUE(std::isnan(ops::mean(Tensor::zeros({0}, dt)).item<double>()));
  }
  EXPECT_EQ(ops::sum(Tensor::zeros({0, 3}), {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
}
