#include <gtest/gtest.h>

#include <limits>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/pool.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

namespace {

struct Case {
  int64_t n, h, w, c, ph, pw, sh, sw;
  ops::Padding pad;
};

ops::Pool2DParams params(const Case& c) { return ops::Pool2DParams().pool(c.ph, c.pw).strides(c.sh, c.sw).padding(c.pad); }

// Reference pooling in double: TF's padding rule, windows clipped to the image (so `same` averages only
// valid elements and max ignores padding).
Tensor reference_pool(const Tensor& x, const Case& c, bool is_max) {
  const int64_t sh = c.sh ? c.sh : c.ph, sw = c.sw ? c.sw : c.pw;
  auto geo = [&](int64_t in, int64_t k, int64_t s, int64_t& out, int64_t& before) {
    if (c.pad == ops::Padding::valid) {
      out = (in - k) / s + 1;
      before = 0;
    } else {
      out = (in + s - 1) / s;
      before = std::max<int64_t>((out - 1) * s + k - in, 0) / 2;
    }
  };
  int64_t oh, ow, pt, pl;
  geo(c.h, c.ph, sh, oh, pt);
  geo(c.w, c.pw, sw, ow, pl);
  Tensor y = Tensor::zeros({c.n, oh, ow, c.c}, DType::f64);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ch = 0; ch < c.c; ++ch) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0;
          int64_t count = 0;
          for (int64_t a = 0; a < c.ph; ++a)
            for (int64_t b = 0; b < c.pw; ++b) {
              const int64_t hi = i * sh - pt + a, wj = j * sw - pl + b;
              if (hi < 0 || hi >= c.h || wj < 0 || wj >= c.w) continue;
              const double v = x.at<double>({n, hi, wj, ch});
              acc = is_max ? std::max(acc, v) : acc + v;
              ++count;
            }
          y.data<double>()[((n * oh + i) * ow + j) * c.c + ch] = is_max ? acc : acc / count;
        }
  return y;
}

const std::vector<Case> kCases = {
    {2, 6, 6, 3, 2, 2, 0, 0, ops::Padding::valid},
    {1, 26, 26, 4, 4, 4, 0, 0, ops::Padding::valid},  // the cnn workload's pool
    {2, 5, 7, 2, 3, 3, 1, 1, ops::Padding::same},
    {1, 7, 5, 2, 2, 3, 2, 2, ops::Padding::same},
    {3, 1, 1, 2, 2, 2, 0, 0, ops::Padding::same},     // 1x1 image, window larger than image
    {1, 9, 9, 1, 2, 2, 3, 3, ops::Padding::valid},    // stride larger than pool
    {1, 5, 5, 2, 3, 3, 2, 2, ops::Padding::same},
};

}  // namespace

TEST(Pool2D, ForwardMatchesReference) {
  Generator gen(5);
  for (const Case& c : kCases)
    for (bool is_max : {true, false}) {
      Tensor x = rnd({c.n, c.h, c.w, c.c}, gen);
      Tensor want = reference_pool(x, c, is_max);
      auto run = [&](const Tensor& t) { return is_max ? ops::max_pool2d(t, params(c)) : ops::avg_pool2d(t, params(c)); };
      EXPECT_LT(max_diff(run(x), want), 1e-12) << "h=" << c.h << " max=" << is_max;
      EXPECT_LT(max_diff(run(x.to(DType::f32)), want), 1e-6) << "h=" << c.h << " max=" << is_max;
    }
}

TEST(Pool2D, GradcheckF64AndOneDnnBackward) {
  Generator gen(6);
  for (const Case& c : kCases)
    for (bool is_max : {true, false}) {
      auto f = [&](const std::vector<Tensor>& v) {
        return is_max ? ops::max_pool2d(v[0], params(c)) : ops::avg_pool2d(v[0], params(c));
      };
      std::vector<Tensor> in{rnd({c.n, c.h, c.w, c.c}, gen)};
      auto r = gradcheck(f, in);
      EXPECT_TRUE(r.ok) << "h=" << c.h << " max=" << is_max << ": " << r.message;
      // f32 inputs equal to the f64 ones (rounded first so that both pick the same maxima).
      in[0] = in[0].to(DType::f32).to(DType::f64);
      Tensor seed = rnd(f(in).shape(), gen);
      EXPECT_LT(max_diff(grads(f, in, seed, DType::f32)[0], grads(f, in, seed, DType::f64)[0]), 1e-6);
    }
}

TEST(Pool2D, GlobalAverage) {
  Generator gen(7);
  Tensor x = rnd({2, 3, 5, 4}, gen);
  Tensor y = ops::global_avg_pool2d(x);
  ASSERT_EQ(y.shape(), (Shape{2, 4}));
  double s = 0;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j) s += x.at<double>({1, i, j, 2});
  EXPECT_NEAR(y.at<double>({1, 2}), s / 15, 1e-12);
  EXPECT_EQ(ops::global_avg_pool2d(x, true).shape(), (Shape{2, 1, 1, 4}));
  EXPECT_LT(max_diff(ops::global_avg_pool2d(x.to(DType::f32)), y), 1e-6);
  auto r = gradcheck([](const std::vector<Tensor>& v) { return ops::global_avg_pool2d(v[0], true); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(error_of([] { ops::global_avg_pool2d(Tensor::zeros({2, 3})); }),
            "global_avg_pool2d: input must be [N,H,W,C], got [2,3]");
}

TEST(Pool2D, RepeatedStepCreatesNoPrimitive) {
  Generator gen(8);
  std::vector<Tensor> in{rnd({4, 26, 26, 16}, gen, -1, 1, DType::f32)};
  auto f = [](const std::vector<Tensor>& v) { return ops::max_pool2d(v[0], ops::Pool2DParams().pool(4, 4)); };
  Tensor seed = Tensor::ones({4, 6, 6, 16});
  grads(f, in, seed, DType::f32);
  const int64_t before = dnnl_glue::primitive_creations();
  grads(f, in, seed, DType::f32);
  EXPECT_EQ(dnnl_glue::primitive_creations(), before);
}

TEST(Pool2D, BadInputs) {
  EXPECT_EQ(error_of([] { ops::max_pool2d(Tensor::zeros({1, 1, 1, 2})); }),
            "max_pool2d: input [1,1,1,2] is smaller than the pool window 2x2 with valid padding");
  EXPECT_EQ(error_of([] { ops::avg_pool2d(Tensor::zeros({4, 4, 2})); }),
            "avg_pool2d: input must be [N,H,W,C], got [4,4,2]");
  EXPECT_EQ(error_of([] { ops::max_pool2d(Tensor::zeros({1, 4, 4, 2}, DType::i32)); }),
            "max_pool2d: input must be f32 or f64, got i32");
}
