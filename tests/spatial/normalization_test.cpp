#include <gtest/gtest.h>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/normalization.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

namespace {

// Reference: normalize x viewed as rows x cols, per column (batch) or per row (layer), biased variance.
Tensor reference_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor* mean_in,
                      const Tensor* var_in, bool per_column, double eps, Tensor* mean_out = nullptr,
                      Tensor* var_out = nullptr) {
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  const int64_t groups = per_column ? cols : rows, count = per_column ? rows : cols;
  Tensor y = Tensor::zeros(x.shape(), DType::f64);
  Tensor xs = x.to(DType::f64);
  const double* px = xs.data<double>();
  if (mean_out) *mean_out = Tensor::zeros({groups}, DType::f64);
  if (var_out) *var_out = Tensor::zeros({groups}, DType::f64);
  for (int64_t g = 0; g < groups; ++g) {
    auto at = [&](int64_t k) { return per_column ? k * cols + g : g * cols + k; };
    double m, v;
    if (mean_in) {
      m = mean_in->to(DType::f64).data<double>()[g];
      v = var_in->to(DType::f64).data<double>()[g];
    } else {
      double s = 0, s2 = 0;
      for (int64_t k = 0; k < count; ++k) s += px[at(k)];
      m = s / count;
      for (int64_t k = 0; k < count; ++k) s2 += (px[at(k)] - m) * (px[at(k)] - m);
      v = s2 / count;
    }
    if (mean_out) mean_out->data<double>()[g] = m;
    if (var_out) var_out->data<double>()[g] = v;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t a = per_column ? g : k;
      const double ga = gamma.defined() ? gamma.to(DType::f64).data<double>()[a] : 1;
      const double be = beta.defined() ? beta.to(DType::f64).data<double>()[a] : 0;
      y.data<double>()[at(k)] = (px[at(k)] - m) / std::sqrt(v + eps) * ga + be;
    }
  }
  return y;
}

Variable var_of(const char* name, const Tensor& t) { return Variable(name, t.clone(), false); }

}  // namespace

TEST(BatchNorm, TrainingUsesBatchStatsAndUpdatesMovingStats) {
  Generator gen(9);
  for (DType dt : {DType::f64, DType::f32})
    for (Shape shape : {Shape{6, 5}, Shape{2, 3, 3, 4}, Shape{1, 3}}) {
      const int64_t c = shape.back();
      Tensor x = rnd(shape, gen, -2, 3), gamma = rnd({c}, gen, 0.5, 1.5), beta = rnd({c}, gen);
      Tensor mm0 = rnd({c}, gen), mv0 = rnd({c}, gen, 0.5, 2);
      Variable mm = var_of("moving_mean", mm0.to(dt)), mv = var_of("moving_variance", mv0.to(dt));
      Tensor bm, bv;
      Tensor want = reference_norm(x, gamma, beta, nullptr, nullptr, true, 1e-3, &bm, &bv);
      Tensor y = ops::batch_norm(x.to(dt), gamma.to(dt), beta.to(dt), mm, mv, {true, 0.9, 1e-3});
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      EXPECT_LT(max_diff(y, want), tol) << shape_str(shape);
      for (int64_t i = 0; i < c; ++i) {
        EXPECT_NEAR(mm.value().at<double>({i}), mm0.at<double>({i}) * 0.9 + bm.at<double>({i}) * 0.1, tol);
        EXPECT_NEAR(mv.value().at<double>({i}), mv0.at<double>({i}) * 0.9 + bv.at<double>({i}) * 0.1, tol);
      }
    }
}

TEST(BatchNorm, InferenceUsesMovingStatsWithOptionalAffine) {
  Generator gen(10);
  for (DType dt : {DType::f64, DType::f32})
    for (int mask = 0; mask < 4; ++mask) {
      Tensor x = rnd({4, 2, 3}, gen), mm0 = rnd({3}, gen), mv0 = rnd({3}, gen, 0.5, 2);
      Tensor gamma = mask & 1 ? rnd({3}, gen) : Tensor(), beta = mask & 2 ? rnd({3}, gen) : Tensor();
      Variable mm = var_of("mm", mm0.to(dt)), mv = var_of("mv", mv0.to(dt));
      Tensor want = reference_norm(x, gamma, beta, &mm0, &mv0, true, 1e-3);
      Tensor y = ops::batch_norm(x.to(dt), gamma.defined() ? gamma.to(dt) : Tensor(),
                                 beta.defined() ? beta.to(dt) : Tensor(), mm, mv, {});
      EXPECT_LT(max_diff(y, want), dt == DType::f32 ? 1e-5 : 1e-12) << mask;
      EXPECT_TRUE(mm.value().equal(mm0.to(dt)));  // untouched at inference
    }
}

TEST(BatchNorm, GradcheckF64AndOneDnnBackward) {
  Generator gen(11);
  for (bool training : {true, false})
    for (int mask = 0; mask < 4; ++mask) {
      const bool has_g = mask & 1, has_b = mask & 2;
      Variable mm = var_of("mm", rnd({4}, gen)), mv = var_of("mv", rnd({4}, gen, 0.5, 2));
      std::vector<Tensor> in{rnd({3, 2, 4}, gen), rnd({4}, gen, 0.5, 1.5), rnd({4}, gen)};
      auto f = [&](const std::vector<Tensor>& v) {
        Variable m = var_of("m", mm.value().to(v[0].dtype())), s = var_of("s", mv.value().to(v[0].dtype()));
        return ops::batch_norm(v[0], has_g ? v[1] : Tensor(), has_b ? v[2] : Tensor(), m, s, {training, 0.99, 1e-3});
      };
      auto r = gradcheck(f, in);
      EXPECT_TRUE(r.ok) << "training=" << training << " mask=" << mask << ": " << r.message;
      Tensor seed = rnd({3, 2, 4}, gen);
      auto g64 = grads(f, in, seed, DType::f64), g32 = grads(f, in, seed, DType::f32);
      for (size_t i = 0; i < 3; ++i) {
        if (!g64[i].defined()) continue;
        EXPECT_LT(max_diff(g32[i], g64[i]), 1e-4) << "input " << i << " training=" << training << " mask=" << mask;
      }
    }
}

TEST(LayerNorm, ForwardGradcheckAndOneDnnBackward) {
  Generator gen(12);
  for (Shape shape : {Shape{4, 7}, Shape{2, 3, 5}, Shape{1, 1}, Shape{6}})
    for (int mask = 0; mask < 4; ++mask) {
      const int64_t d = shape.back();
      std::vector<Tensor> in{rnd(shape, gen, -2, 2), rnd({d}, gen, 0.5, 1.5), rnd({d}, gen)};
      const bool has_g = mask & 1, has_b = mask & 2;
      auto f = [&](const std::vector<Tensor>& v) {
        return ops::layer_norm(v[0], has_g ? v[1] : Tensor(), has_b ? v[2] : Tensor(), 1e-3);
      };
      Tensor want = reference_norm(in[0], has_g ? in[1] : Tensor(), has_b ? in[2] : Tensor(), nullptr, nullptr,
                                   false, 1e-3);
      EXPECT_LT(max_diff(f(in), want), 1e-12);
      std::vector<Tensor> in32{in[0].to(DType::f32), in[1].to(DType::f32), in[2].to(DType::f32)};
      EXPECT_LT(max_diff(f(in32), want), 1e-5) << shape_str(shape);
      if (d > 1) {  // with one element per row the output is constant (beta): nothing to check numerically
        auto r = gradcheck(f, in);
        EXPECT_TRUE(r.ok) << shape_str(shape) << " mask=" << mask << ": " << r.message;
      }
      Tensor seed = rnd(shape, gen);
      auto g64 = grads(f, in, seed, DType::f64), g32 = grads(f, in, seed, DType::f32);
      for (size_t i = 0; i < 3; ++i) {
        if (!g64[i].defined()) continue;
        EXPECT_LT(max_diff(g32[i], g64[i]), 1e-4) << shape_str(shape) << " input " << i;
      }
    }
}

TEST(Normalization, RepeatedStepCreatesNoPrimitive) {
  Generator gen(13);
  Variable mm = var_of("mm", Tensor::zeros({16})), mv = var_of("mv", Tensor::ones({16}));
  std::vector<Tensor> in{rnd({8, 6, 6, 16}, gen, -1, 1, DType::f32), Tensor::ones({16}), Tensor::zeros({16})};
  auto f = [&](const std::vector<Tensor>& v) {
    return ops::layer_norm(ops::batch_norm(v[0], v[1], v[2], mm, mv, {true, 0.99, 1e-3}), v[1], v[2]);
  };
  Tensor seed = Tensor::ones({8, 6, 6, 16});
  grads(f, in, seed, DType::f32);
  const int64_t before = dnnl_glue::primitive_creations();
  grads(f, in, seed, DType::f32);
  EXPECT_EQ(dnnl_glue::primitive_creations(), before);
}

TEST(Normalization, BadInputs) {
  Variable mm = var_of("mm", Tensor::zeros({4})), mv = var_of("mv", Tensor::ones({4}));
  EXPECT_EQ(error_of([&] { ops::batch_norm(Tensor::zeros({2, 5}), Tensor(), Tensor(), mm, mv, {}); }),
            "batch_norm: moving_mean [4] f32 does not match input [2,5] f32");
  EXPECT_EQ(error_of([&] { ops::batch_norm(Tensor::zeros({2, 4}), Tensor::ones({3}), Tensor(), mm, mv, {}); }),
            "batch_norm: gamma [3] f32 does not match input [2,4] f32");
  EXPECT_EQ(error_of([&] { ops::batch_norm(Tensor::zeros({0, 4}), Tensor(), Tensor(), mm, mv, {true, 0.99, 1e-3}); }),
            "batch_norm: training needs a non-empty batch, got [0,4]");
  EXPECT_EQ(error_of([] { ops::layer_norm(Tensor::zeros({2, 4}), Tensor(), Tensor::zeros({4}, DType::f64)); }),
            "layer_norm: beta [4] f64 does not match input [2,4] f32");
}
