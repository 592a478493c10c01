#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/autodiff/backward.h"
#include "keel/graph/node.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"
#include "test_util.h"

using namespace keel;
using namespace keel::test;

namespace {

using Ref = std::function<double(double, double)>;

// Plain reference: out[idx] = f(a[idx broadcast], b[idx broadcast]).
std::vector<double> ref_binary(const Tensor& a, const Tensor& b, const Shape& out, const Ref& f) {
  const auto va = values(a), vb = values(b);
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  std::vector<double> r(n);
  std::vector<int64_t> idx(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    r[i] = f(va[ravel_broadcast(idx, a.shape())], vb[ravel_broadcast(idx, b.shape())]);
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0 && ++idx[d] == out[d]; --d) idx[d] = 0;
  }
  return r;
}

struct BinCase {
  const char* name;
  Tensor (*op)(const Tensor&, const Tensor&);
  Ref ref;
};

std::vector<BinCase> bin_cases() {
  return {{"add", ops::add, [](double x, double y) { return x + y; }},
          {"sub", ops::sub, [](double x, double y) { return x - y; }},
          {"mul", ops::mul, [](double x, double y) { return x * y; }},
          {"div", ops::div, [](double x, double y) { return x / y; }},
          {"maximum", ops::maximum, [](double x, double y) { return x >= y ? x : y; }},
          {"minimum", ops::minimum, [](double x, double y) { return x <= y ? x : y; }}};
}

const std::vector<std::pair<Shape, Shape>> kShapes = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3}, {2, 3}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 2}},
    {{1}, {1}},       {{0, 3}, {3}}, {{4, 1}, {1, 5}}, {{2, 3, 1}, {1}}};

}  // namespace

TEST(Elementwise, BroadcastForwardMatchesReference) {
  for (const auto& c : bin_cases())
    for (const auto& [sa, sb] : kShapes) {
      Tensor a = rnd(sa, DType::f64, 0.5, 2, 1), b = rnd(sb, DType::f64, 0.5, 2, 2);
      Tensor y = c.op(a, b);
      const Shape out = ops::broadcast_shapes(sa, sb, c.name);
      EXPECT_EQ(y.shape(), out);
      expect_near(y, ref_binary(a, b, out, c.ref), 0, 0, std::string(c.name) + " " + shape_str(sa) + shape_str(sb));
    }
}

TEST(Elementwise, LargeF32MatchesReference) {
  // Above the oneDNN threshold (same shape and row broadcast) and below it.
  for (const auto& c : bin_cases())
    for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{
             {{260, 260}, {260, 260}}, {{260, 260}, {260}}, {{260, 260}, {260, 1}}, {{1, 260}, {260, 260}},
             {{40, 41}, {41}}}) {
      Tensor a = rnd(sa, DType::f32, 0.5, 2, 3), b = rnd(sb, DType::f32, 0.5, 2, 4);
      Tensor y = c.op(a, b);
      expect_near(y, ref_binary(a, b, y.shape(), c.ref), 1e-6, 0, c.name);
    }
}

TEST(Elementwise, PowAndIntegers) {
  Tensor a = rnd({3, 4}, DType::f64, 0.5, 2), b = rnd({4}, DType::f64, -1, 2);
  expect_near(ops::pow(a, b), ref_binary(a, b, {3, 4}, [](double x, double y) { return std::pow(x, y); }), 1e-15);
  Tensor i = Tensor::from_vector<int32_t>({7, -8, 9}), j = Tensor::from_vector<int32_t>({2});
  EXPECT_EQ(ops::div(i, j).to_vector<int32_t>(), (std::vector<int32_t>{3, -4, 4}));
  EXPECT_EQ(ops::add(i, 1.0).to_vector<int32_t>(), (std::vector<int32_t>{8, -7, 10}));
  EXPECT_EQ(error_of([&] { ops::div(i, Tensor::from_vector<int32_t>({0})); }), "div: integer division by zero");
}

TEST(Elementwise, BinaryGradients) {
  for (const auto& c : bin_cases())
    for (const auto& [sa, sb] : kShapes) {
      // Keep maximum/minimum away from ties, where the gradient is one-sided.
      Tensor a = rnd(sa, DType::f64, 0.5, 2, 5), b = rnd(sb, DType::f64, 2.5, 4, 6);
      expect_grad_ok([&](const std::vector<Tensor>& in) { return c.op(in[0], in[1]); }, {a, b},
                     std::string(c.name) + " " + shape_str(sa) + shape_str(sb));
    }
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::pow(in[0], in[1]); },
                 {rnd({2, 3}, DType::f64, 0.5, 2), rnd({3}, DType::f64, -1, 2)}, "pow");
}

TEST(Elementwise, TiesRouteToFirstArgument) {
  Tensor a = Tensor::from_vector<double>({1, 2}).set_requires_grad(), b = Tensor::from_vector<double>({1, 3});
  b.set_requires_grad();
  ops::sum(ops::maximum(a, b)).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0, 1}));
}

namespace {
struct UnCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> ref;
  double lo, hi;
};
std::vector<UnCase> un_cases() {
  return {{"neg", [](const Tensor& x) { return ops::neg(x); }, [](double x) { return -x; }, -2, 2},
          {"exp", [](const Tensor& x) { return ops::exp(x); }, [](double x) { return std::exp(x); }, -2, 2},
          {"log", [](const Tensor& x) { return ops::log(x); }, [](double x) { return std::log(x); }, 0.1, 3},
          {"sqrt", [](const Tensor& x) { return ops::sqrt(x); }, [](double x) { return std::sqrt(x); }, 0.1, 3},
          {"square", [](const Tensor& x) { return ops::square(x); }, [](double x) { return x * x; }, -2, 2},
          {"abs", [](const Tensor& x) { return ops::abs(x); }, [](double x) { return std::abs(x); }, -2, 2},
          {"clip", [](const Tensor& x) { return ops::clip(x, -0.5, 0.7); },
           [](double x) { return std::min(0.7, std::max(-0.5, x)); }, -2, 2},
          {"add_s", [](const Tensor& x) { return ops::add(x, 1.5); }, [](double x) { return x + 1.5; }, -2, 2},
          {"sub_s", [](const Tensor& x) { return x - 1.5; }, [](double x) { return x - 1.5; }, -2, 2},
          {"mul_s", [](const Tensor& x) { return x * -3.0; }, [](double x) { return x * -3; }, -2, 2},
          {"div_s", [](const Tensor& x) { return x / 4.0; }, [](double x) { return x / 4; }, -2, 2},
          {"pow_s", [](const Tensor& x) { return ops::pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0.1, 2}};
}
}  // namespace

TEST(Elementwise, UnaryForwardAndGradients) {
  for (const auto& c : un_cases()) {
    for (const Shape& s : {Shape{3, 4}, Shape{}, Shape{0, 2}, Shape{1}}) {
      Tensor x = rnd(s, DType::f64, c.lo, c.hi);
      std::vector<double> want;
      for (double v : values(x)) want.push_back(c.ref(v));
      expect_near(c.op(x), want, 1e-15, 0, c.name);
      expect_grad_ok([&](const std::vector<Tensor>& in) { return c.op(in[0]); }, {x}, c.name);
    }
    // Large f32 (oneDNN path) and small f32 against the double reference.
    for (const Shape& s : {Shape{70000}, Shape{33}}) {
      Tensor x = rnd(s, DType::f32, c.lo, c.hi, 11);
      std::vector<double> want;
      for (double v : values(x)) want.push_back(static_cast<float>(c.ref(v)));
      // oneDNN's log/exp are approximations: a few 1e-6 absolute near log(x) = 0.
      expect_near(c.op(x), want, 2e-6, 1e-5, std::string(c.name) + " f32 " + shape_str(s));
    }
  }
}

TEST(Elementwise, ClipGradientOnlyStrictlyInside) {
  Tensor x = Tensor::from_vector<double>({-1, 0, 0.5, 1, 2}).set_requires_grad();
  ops::sum(ops::clip(x, 0, 1)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 0, 0}));
}

TEST(Elementwise, WhereComparisonsCast) {
  Tensor c = Tensor::from_vector<bool>({true, false, true}, {3});
  Tensor a = rnd({2, 3}, DType::f64, -1, 1, 1), b = rnd({2, 1}, DType::f64, -1, 1, 2);
  Tensor w = ops::where(c, a, b);
  expect_near(w, {values(a)[0], values(b)[0], values(a)[2], values(a)[3], values(b)[1], values(a)[5]}, 0);
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::where(c, in[0], in[1]); }, {a, b}, "where");
  // Numeric condition: nonzero is true.
  Tensor ci = Tensor::from_vector<int32_t>({0, 2});
  EXPECT_EQ(ops::where(ci, Tensor::ones({2}), Tensor::zeros({2})).to_vector<float>(), (std::vector<float>{0, 1}));
  Tensor p = Tensor::from_vector<float>({1, 2, 3}), q = Tensor::from_vector<float>({2});
  EXPECT_EQ(ops::greater(p, q).to_vector<bool>(), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(ops::less(p, q).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(ops::equal(p, q).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(ops::cast(p, DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3}));
  Tensor x = Tensor::from_vector<double>({1.5, -2}).set_requires_grad();
  ops::sum(ops::mul(ops::cast(ops::cast(x, DType::f32), DType::f64), 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 3}));
}

TEST(Elementwise, Errors) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4}), d = Tensor::zeros({2, 3}, DType::f64);
  EXPECT_EQ(error_of([&] { ops::add(a, b); }), "add: [2,3] and [4]: shapes do not broadcast");
  EXPECT_EQ(error_of([&] { ops::mul(a, d); }), "mul: f32 and f64: dtypes differ");
  EXPECT_EQ(error_of([&] { ops::where(Tensor::ones({5}, DType::boolean), a, a); }),
            "where: [5] and [2,3]: shapes do not broadcast");
  EXPECT_EQ(error_of([&] { ops::less(a, b); }), "less: [2,3] and [4]: shapes do not broadcast");
  EXPECT_EQ(error_of([&] { ops::exp(Tensor::zeros({2}, DType::i32)); }),
            "exp: dtype i32 is not floating point (f32 or f64)");
  EXPECT_EQ(error_of([&] { ops::clip(a, 1, 0); }), "clip: low 1 is greater than high 0");
}

TEST(Elementwise, NoRecordingWithoutGradOrUnderNoGrad) {
  Tensor a = Tensor::ones({2}).set_requires_grad();
  EXPECT_FALSE(ops::add(Tensor::ones({2}), Tensor::ones({2})).requires_grad());
  EXPECT_TRUE(ops::add(a, Tensor::ones({2})).requires_grad());
  NoGradGuard off;
  EXPECT_FALSE(ops::add(a, a).requires_grad());
}

TEST(Elementwise, NaNPropagatesOnBothPaths) {
  for (int64_t n : {int64_t{100}, int64_t{40000}}) {
    Tensor x = rnd({n}, DType::f32, -3, 3, 9);
    x.data<float>()[5] = std::nanf("");
    Tensor zero = Tensor::zeros({n});
    for (const auto& [name, y] : std::vector<std::pair<const char*, Tensor>>{
             {"exp", ops::exp(x)}, {"clip", ops::clip(x, -1, 1)}, {"maximum(x, 0)", ops::maximum(x, zero)},
             {"maximum(0, x)", ops::maximum(zero, x)}, {"minimum(x, 0)", ops::minimum(x, zero)},
             {"minimum(0, x)", ops::minimum(zero, x)}}) {
      EXPECT_TRUE(std::isnan(y.data<float>()[5])) << name << " n=" << n;
      EXPECT_FALSE(std::isnan(y.data<float>()[6])) << name << " n=" << n;
    }
  }
}

TEST(Elementwise, ExtremumGradientWithNaNGoesToTheSecondArgumentAsInTensorFlow) {
  // TF's MaximumGrad routes g to x where x >= y, else to y; comparisons with NaN are false.
  Tensor a = Tensor::from_vector<double>({1.0, 2.0}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({std::nan(""), 2.0}).set_requires_grad(true);
  for (bool is_max : {true, false}) {
    Tensor y = is_max ? ops::maximum(a, b) : ops::minimum(a, b);
    EXPECT_TRUE(std::isnan(y.to_vector<double>()[0]));
    auto g = grad(ops::sum(y), {a, b});
    EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{0, 1})) << is_max;  // tie: to a
    EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{1, 0})) << is_max;
    Tensor y2 = is_max ? ops::maximum(b, a) : ops::minimum(b, a);
    auto g2 = grad(ops::sum(y2), {b, a});
    EXPECT_EQ(g2[0].to_vector<double>(), (std::vector<double>{0, 1})) << is_max;  // NaN first: still to y
    EXPECT_EQ(g2[1].to_vector<double>(), (std::vector<double>{1, 0})) << is_max;
  }
}
