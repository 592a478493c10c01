#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradcheck.h"
#include "keel/ops/conv.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/reduce.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

namespace {

struct Case {
  int64_t n, h, w, c, kh, kw, o, sh, sw, dh, dw;
  ops::Padding pad;
  bool bias;
  ops::Activation act;
};

// Reference: direct NHWC convolution in double, TF's padding rule written out here.
Tensor reference_conv(const Tensor& x64, const Tensor& k64, const Tensor& b64, const Case& c) {
  auto geo = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& out, int64_t& before) {
    const int64_t eff = (k - 1) * d + 1;
    if (c.pad == ops::Padding::valid) {
      out = (in - eff) / s + 1;
      before = 0;
    } else {
      out = (in + s - 1) / s;
      before = std::max<int64_t>((out - 1) * s + eff - in, 0) / 2;
    }
  };
  int64_t oh, ow, ph, pw;
  geo(c.h, c.kh, c.sh, c.dh, oh, ph);
  geo(c.w, c.kw, c.sw, c.dw, ow, pw);
  Tensor y = Tensor::zeros({c.n, oh, ow, c.o}, DType::f64);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < c.o; ++o) {
          double s = c.bias ? b64.at<double>({o}) : 0;
          for (int64_t a = 0; a < c.kh; ++a)
            for (int64_t b = 0; b < c.kw; ++b) {
              const int64_t hi = i * c.sh - ph + a * c.dh, wj = j * c.sw - pw + b * c.dw;
              if (hi < 0 || hi >= c.h || wj < 0 || wj >= c.w) continue;
              for (int64_t ch = 0; ch < c.c; ++ch) s += x64.at<double>({n, hi, wj, ch}) * k64.at<double>({a, b, ch, o});
            }
          if (c.act == ops::Activation::relu) s = std::max(s, 0.0);
          if (c.act == ops::Activation::sigmoid) s = 1 / (1 + std::exp(-s));
          if (c.act == ops::Activation::tanh) s = std::tanh(s);
          y.data<double>()[((n * oh + i) * ow + j) * c.o + o] = s;
        }
  return y;
}

ops::Conv2DParams params(const Case& c) {
  return ops::Conv2DParams().strides(c.sh, c.sw).dilation(c.dh, c.dw).padding(c.pad).activation(c.act);
}

const std::vector<Case> kCases = {
    {2, 5, 6, 3, 3, 3, 4, 1, 1, 1, 1, ops::Padding::valid, true, ops::Activation::linear},
    {1, 7, 7, 2, 3, 3, 5, 2, 2, 1, 1, ops::Padding::same, true, ops::Activation::relu},
    {1, 6, 5, 1, 2, 3, 2, 2, 1, 1, 1, ops::Padding::same, false, ops::Activation::linear},
    {2, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, ops::Padding::valid, true, ops::Activation::sigmoid},  // 1x1 image
    {1, 8, 8, 2, 2, 2, 3, 3, 3, 1, 1, ops::Padding::valid, true, ops::Activation::linear},   // stride > kernel
    {2, 9, 8, 2, 3, 2, 3, 1, 1, 2, 3, ops::Padding::same, true, ops::Activation::tanh},      // dilation
    {1, 9, 9, 3, 3, 3, 2, 1, 1, 2, 2, ops::Padding::valid, false, ops::Activation::relu},
    {3, 4, 4, 1, 5, 5, 2, 1, 1, 1, 1, ops::Padding::same, true, ops::Activation::linear},   // kernel > image
    // Strides and dilation together (TensorFlow's nn.convolution refuses them; keel computes them).
    {1, 11, 10, 2, 3, 2, 3, 2, 3, 2, 2, ops::Padding::same, true, ops::Activation::linear},
    {2, 12, 9, 3, 2, 3, 2, 3, 2, 2, 3, ops::Padding::valid, false, ops::Activation::relu},
    // 8 or more input channels: oneDNN chooses the layouts of x and y (fewer: keel's NHWC).
    {2, 6, 5, 8, 3, 3, 16, 1, 1, 1, 1, ops::Padding::same, true, ops::Activation::relu},
    {1, 7, 7, 9, 3, 2, 5, 2, 1, 1, 1, ops::Padding::valid, false, ops::Activation::linear},
};

}  // namespace

TEST(Conv2D, GeometryFollowsTensorFlow) {
  auto g = ops::conv_geometry(5, 3, 2, 1, ops::Padding::same);
  EXPECT_EQ(g.out, 3);
  EXPECT_EQ(g.pad_before, 1);
  EXPECT_EQ(g.pad_after, 1);
  g = ops::conv_geometry(6, 3, 2, 1, ops::Padding::same);  // total 1: TF puts the odd pixel after
  EXPECT_EQ(g.out, 3);
  EXPECT_EQ(g.pad_before, 0);
  EXPECT_EQ(g.pad_after, 1);
  g = ops::conv_geometry(7, 3, 2, 2, ops::Padding::valid);  // dilated kernel spans 5
  EXPECT_EQ(g.out, 2);
  EXPECT_EQ(g.pad_before + g.pad_after, 0);
  g = ops::conv_geometry(28, 3, 1, 1, ops::Padding::valid);
  EXPECT_EQ(g.out, 26);
  g = ops::conv_geometry(2, 3, 1, 1, ops::Padding::valid);
  EXPECT_EQ(g.out, 0);
  g = ops::conv_geometry(1, 4, 3, 1, ops::Padding::same);
  EXPECT_EQ(g.out, 1);
  EXPECT_EQ(g.pad_before, 1);
  EXPECT_EQ(g.pad_after, 2);
  EXPECT_EQ(ops::padding_from_name("same"), ops::Padding::same);
  EXPECT_EQ(error_of([] { ops::padding_from_name("full"); }),
            "padding: unknown padding 'full' (expected 'valid' or 'same')");
}

TEST(Conv2D, ForwardMatchesReferenceInF32AndF64) {
  Generator gen(1);
  for (const Case& c : kCases) {
    Tensor x = rnd({c.n, c.h, c.w, c.c}, gen), k = rnd({c.kh, c.kw, c.c, c.o}, gen);
    Tensor b = c.bias ? rnd({c.o}, gen) : Tensor();
    Tensor want = reference_conv(x, k, b, c);
    Tensor y64 = ops::conv2d(x, k, b, params(c));
    EXPECT_LT(max_diff(y64, want), 1e-12) << "case h=" << c.h << " k=" << c.kh;
    Tensor y32 = ops::conv2d(x.to(DType::f32), k.to(DType::f32), c.bias ? b.to(DType::f32) : Tensor(), params(c));
    EXPECT_EQ(y32.dtype(), DType::f32);
    EXPECT_LT(max_diff(y32, want), 1e-5) << "case h=" << c.h << " k=" << c.kh;
  }
}

TEST(Conv2D, GradcheckF64) {
  Generator gen(2);
  for (const Case& c : kCases) {
    std::vector<Tensor> in{rnd({c.n, c.h, c.w, c.c}, gen), rnd({c.kh, c.kw, c.c, c.o}, gen)};
    if (c.bias) in.push_back(rnd({c.o}, gen));
    auto r = gradcheck(
        [&](const std::vector<Tensor>& v) { return ops::conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), params(c)); }, in);
    EXPECT_TRUE(r.ok) << "case h=" << c.h << " k=" << c.kh << ": " << r.message;
  }
}

TEST(Conv2D, OneDnnBackwardMatchesF64Backward) {
  Generator gen(3);
  for (const Case& c : kCases) {
    std::vector<Tensor> in{rnd({c.n, c.h, c.w, c.c}, gen), rnd({c.kh, c.kw, c.c, c.o}, gen)};
    if (c.bias) in.push_back(rnd({c.o}, gen));
    auto f = [&](const std::vector<Tensor>& v) { return ops::conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), params(c)); };
    Tensor y = f(in);
    Tensor seed = rnd(y.shape(), gen);
    auto g64 = grads(f, in, seed, DType::f64);
    auto g32 = grads(f, in, seed, DType::f32);
    for (size_t i = 0; i < in.size(); ++i) {
      ASSERT_TRUE(g32[i].defined());
      EXPECT_EQ(g32[i].dtype(), DType::f32);
      EXPECT_LT(max_diff(g32[i], g64[i]), 1e-4) << "input " << i << " case h=" << c.h << " k=" << c.kh;
    }
  }
}

TEST(Conv2D, RepeatedStepCreatesNoPrimitive) {
  Generator gen(4);
  Case c{4, 12, 12, 3, 3, 3, 8, 1, 1, 1, 1, ops::Padding::same, true, ops::Activation::relu};
  std::vector<Tensor> in{rnd({4, 12, 12, 3}, gen, -1, 1, DType::f32), rnd({3, 3, 3, 8}, gen, -1, 1, DType::f32),
                         rnd({8}, gen, -1, 1, DType::f32)};
  auto f = [&](const std::vector<Tensor>& v) { return ops::conv2d(v[0], v[1], v[2], params(c)); };
  Tensor seed = Tensor::ones({4, 12, 12, 8});
  grads(f, in, seed, DType::f32);
  const int64_t before = dnnl_glue::primitive_creations();
  auto g = grads(f, in, seed, DType::f32);
  EXPECT_EQ(dnnl_glue::primitive_creations(), before);
  EXPECT_TRUE(g[0].defined() && g[1].defined() && g[2].defined());
}

TEST(Conv2D, BadInputsNameBothShapes) {
  Tensor x = Tensor::zeros({1, 5, 5, 3}), k = Tensor::zeros({3, 3, 4, 8});
  EXPECT_EQ(error_of([&] { ops::conv2d(x, k, Tensor()); }),
            "conv2d: input [1,5,5,3] has 3 channels but kernel [3,3,4,8] expects 4");
  EXPECT_EQ(error_of([&] { ops::conv2d(Tensor::zeros({5, 5}), k, Tensor()); }),
            "conv2d: input must be [N,H,W,C], got [5,5]");
  EXPECT_EQ(error_of([&] { ops::conv2d(Tensor::zeros({1, 5, 5, 4}), k, Tensor::zeros({7})); }),
            "conv2d: bias [7] f32 does not match kernel [3,3,4,8] with 8 filters");
  EXPECT_EQ(error_of([&] { ops::conv2d(Tensor::zeros({1, 2, 2, 4}), k, Tensor()); }),
            "conv2d: input [1,2,2,4] is smaller than the dilated kernel [3,3,4,8] with valid padding");
}

// Activations oneDNN cannot fuse (their derivative needs the input, or a whole row) run after a linear
// convolution: the same values and gradients as conv2d followed by ops::activate, in f32 and f64.
TEST(Conv2D, UnfusableActivationsApplyAfterTheConvolution) {
  for (auto act : {ops::Activation::gelu, ops::Activation::softmax, ops::Activation::swish,
                   ops::Activation::softsign}) {
    for (DType dt : {DType::f32, DType::f64}) {
      Generator gen(11);
      std::vector<Tensor> in{rnd({2, 5, 5, 3}, gen, -1, 1, dt), rnd({3, 3, 3, 4}, gen, -1, 1, dt),
                             rnd({4}, gen, -1, 1, dt)};
      const auto p = ops::Conv2DParams().padding("same").activation(act);
      auto fused = [&](const std::vector<Tensor>& v) { return ops::conv2d(v[0], v[1], v[2], p); };
      auto after = [&](const std::vector<Tensor>& v) {
        return ops::activate(ops::conv2d(v[0], v[1], v[2], ops::Conv2DParams().padding("same")), act);
      };
      Tensor seed = rnd({2, 5, 5, 4}, gen, -1, 1, dt);
      EXPECT_EQ(max_diff(fused(in), after(in)), 0.0) << ops::activation_name(act);
      auto g_fused = grads(fused, in, seed, dt), g_after = grads(after, in, seed, dt);
      for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(max_diff(g_fused[i], g_after[i]), 0.0) << "input " << i;
    }
  }
}

namespace {

TEST(Conv2D, ZeroInputChannelsGiveTheActivatedBias) {
  // No input channels: the sum over the window is empty, so y = act(bias) and d sum(y) / d bias counts
  // the output positions (1 x 2 x 2 here).
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = Tensor::zeros({1, 2, 2, 0}, dt), w = Tensor::zeros({1, 1, 0, 2}, dt);
    Tensor b = Tensor::from_vector<double>({1, 2}).to(dt).set_requires_grad(true);
    Tensor y = ops::conv2d(x, w, b);
    ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 2}));
    EXPECT_EQ(y.to(DType::f64).to_vector<double>(), (std::vector<double>{1, 2, 1, 2, 1, 2, 1, 2}));
    auto g = grad(ops::sum(y), {b});
    EXPECT_EQ(g[0].to(DType::f64).to_vector<double>(), (std::vector<double>{4, 4}));
    Tensor s = ops::conv2d(x, w, b, ops::Conv2DParams().activation(ops::Activation::sigmoid));
    EXPECT_NEAR(s.to(DType::f64).to_vector<double>()[1], 1 / (1 + std::exp(-2.0)), 1e-6);
  }
}

}  // namespace

// oneDNN's eltwise post-ops turn NaN into 0 (relu is a max) or inf: with a NaN in the image, conv2d with
// a fused activation must give what the linear convolution followed by the activation gives (NaN
// wherever a window covers the NaN pixel), as TensorFlow does.
TEST(Conv2D, NaNPixelReachesEveryWindowThatCoversIt) {
  for (auto act : {ops::Activation::relu, ops::Activation::sigmoid, ops::Activation::tanh, ops::Activation::elu}) {
    Generator gen(12);
    Tensor x = rnd({1, 6, 6, 2}, gen, -1, 1, DType::f32);
    Tensor k = rnd({3, 3, 2, 4}, gen, -1, 1, DType::f32), b = rnd({4}, gen, -1, 1, DType::f32);
    x.data<float>()[(2 * 6 + 3) * 2 + 1] = std::nanf("");
    const auto p = ops::Conv2DParams().padding("same").activation(act);
    Tensor got = ops::conv2d(x, k, b, p);
    Tensor want = ops::activate(ops::conv2d(x, k, b, ops::Conv2DParams().padding("same")), act);
    int64_t nans = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
      const float g = got.data<float>()[i], w = want.data<float>()[i];
      nans += std::isnan(w);
      if (std::isnan(w))
        EXPECT_TRUE(std::isnan(g)) << ops::activation_name(act) << " at " << i << ": " << g;
      else
        EXPECT_NEAR(g, w, 1e-5) << ops::activation_name(act) << " at " << i;
    }
    EXPECT_EQ(nans, 9 * 4) << ops::activation_name(act);  // the 3x3 windows around (2, 3), all 4 filters
  }
}
