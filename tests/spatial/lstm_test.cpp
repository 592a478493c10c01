#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/lstm.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

namespace {

struct Case {
  int64_t n, t, in, u;
  bool bias, h0, c0, seq;
};

double sig(double v) { return 1 / (1 + std::exp(-v)); }

// Reference: Keras's LSTM cell step by step in double (gates i, f, c, o; tanh and sigmoid).
void reference_lstm(const Case& c, const std::vector<Tensor>& in, Tensor& out, Tensor& h_out, Tensor& c_out) {
  const Tensor x = in[0].to(DType::f64), w = in[1].to(DType::f64), r = in[2].to(DType::f64);
  std::vector<double> h(c.n * c.u, 0), cs(c.n * c.u, 0);
  for (int64_t i = 0; i < c.n * c.u; ++i) {
    if (c.h0) h[i] = in[4].to(DType::f64).data<double>()[i];
    if (c.c0) cs[i] = in[5].to(DType::f64).data<double>()[i];
  }
  out = Tensor::zeros(c.seq ? Shape{c.n, c.t, c.u} : Shape{c.n, c.u}, DType::f64);
  for (int64_t t = 0; t < c.t; ++t) {
    std::vector<double> hn(h.size());
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t k = 0; k < c.u; ++k) {
        double z[4];
        for (int g = 0; g < 4; ++g) {
          const int64_t col = g * c.u + k;
          double acc = c.bias ? in[3].to(DType::f64).data<double>()[col] : 0;
          for (int64_t i = 0; i < c.in; ++i) acc += x.at<double>({n, t, i}) * w.at<double>({i, col});
          for (int64_t i = 0; i < c.u; ++i) acc += h[n * c.u + i] * r.at<double>({i, col});
          z[g] = acc;
        }
        double& cell = cs[n * c.u + k];
        cell = sig(z[1]) * cell + sig(z[0]) * std::tanh(z[2]);
        hn[n * c.u + k] = sig(z[3]) * std::tanh(cell);
      }
    h = hn;
    if (c.seq)
      for (int64_t n = 0; n < c.n; ++n)
        for (int64_t k = 0; k < c.u; ++k) out.data<double>()[(n * c.t + t) * c.u + k] = h[n * c.u + k];
  }
  if (!c.seq) std::copy(h.begin(), h.end(), out.data<double>());
  h_out = Tensor::from_vector<double>(h, {c.n, c.u});
  c_out = Tensor::from_vector<double>(cs, {c.n, c.u});
}

std::vector<Tensor> inputs(const Case& c, Generator& gen) {
  return {rnd({c.n, c.t, c.in}, gen), rnd({c.in, 4 * c.u}, gen, -0.7, 0.7), rnd({c.u, 4 * c.u}, gen, -0.7, 0.7),
          rnd({4 * c.u}, gen, -0.5, 0.5), rnd({c.n, c.u}, gen), rnd({c.n, c.u}, gen)};
}

ops::LSTMResult run(const Case& c, const std::vector<Tensor>& v) {
  return ops::lstm(v[0], v[1], v[2], c.bias ? v[3] : Tensor(), c.h0 ? v[4] : Tensor(), c.c0 ? v[5] : Tensor(), c.seq);
}

const std::vector<Case> kCases = {
    {2, 4, 3, 2, true, false, false, false},
    {3, 3, 2, 3, true, true, true, true},
    {1, 1, 1, 1, false, false, false, true},   // batch of 1, sequence of 1
    {2, 5, 4, 3, true, true, false, false},
    {1, 6, 2, 2, false, false, true, true},
};

}  // namespace

TEST(LSTM, ForwardMatchesReference) {
  Generator gen(21);
  for (const Case& c : kCases) {
    auto in = inputs(c, gen);
    Tensor out, h, cell;
    reference_lstm(c, in, out, h, cell);
    for (DType dt : {DType::f64, DType::f32}) {
      std::vector<Tensor> v;
      for (const Tensor& t : in) v.push_back(t.to(dt));
      auto r = run(c, v);
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      EXPECT_LT(max_diff(r.output, out), tol) << "n=" << c.n << " t=" << c.t << " " << dtype_name(dt);
      EXPECT_LT(max_diff(r.h, h), tol);
      EXPECT_LT(max_diff(r.c, cell), tol);
    }
  }
}

// Gate pre-activations of +-inf and far beyond exp's range saturate the gates as in double precision
// (sigmoid 0 or 1, tanh +-1), on the f32 path's fast exp as well; a NaN input gives NaN for its own
// sample only.
TEST(LSTM, SaturatedAndNonFiniteGatesMatchTheReference) {
  const float inf = std::numeric_limits<float>::infinity();
  Generator gen(24);
  const Case c{3, 4, 1, 5, true, false, false, true};
  auto in = inputs(c, gen);
  // One input feature, so that each gate's pre-activation is x * w + finite terms: +-inf for x = +-inf.
  const std::vector<double> xs = {inf, -inf, 1e30, -1e30, 200, -200, 90, -90, inf, 3, -inf, 0.5};
  in[0] = Tensor::from_vector<double>(xs, {c.n, c.t, c.in});
  Tensor out, h, cell;
  reference_lstm(c, in, out, h, cell);
  for (DType dt : {DType::f64, DType::f32}) {
    std::vector<Tensor> v;
    for (const Tensor& t : in) v.push_back(t.to(dt));
    const auto r = run(c, v);
    for (const auto& [got, want] : {std::pair{r.output, out}, std::pair{r.h, h}, std::pair{r.c, cell}}) {
      const std::vector<double> g = got.to(DType::f64).to_vector<double>(), w = want.to_vector<double>();
      ASSERT_EQ(g.size(), w.size());
      for (size_t i = 0; i < g.size(); ++i) {
        ASSERT_TRUE(std::isfinite(w[i])) << i;
        EXPECT_NEAR(g[i], w[i], 1e-5) << dtype_name(dt) << " element " << i;
      }
    }
  }
  // A NaN in sample 1: its outputs are NaN, the other samples' are untouched.
  std::vector<double> nan_xs = xs;
  nan_xs[c.t * 1 + 2] = std::numeric_limits<double>::quiet_NaN();
  in[0] = Tensor::from_vector<double>(nan_xs, {c.n, c.t, c.in});
  for (DType dt : {DType::f64, DType::f32}) {
    std::vector<Tensor> v;
    for (const Tensor& t : in) v.push_back(t.to(dt));
    const std::vector<double> g = run(c, v).h.to(DType::f64).to_vector<double>(), w = h.to_vector<double>();
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t k = 0; k < c.u; ++k) {
        const double got = g[n * c.u + k];
        if (n == 1) {
          EXPECT_TRUE(std::isnan(got)) << dtype_name(dt) << " unit " << k << ": " << got;
        } else {
          EXPECT_NEAR(got, w[n * c.u + k], 1e-5) << dtype_name(dt) << " sample " << n << " unit " << k;
        }
      }
  }
}

TEST(LSTM, GradcheckF64AndOneDnnBackward) {
  Generator gen(22);
  for (const Case& c : kCases)
    for (int which = 0; which < 3; ++which) {  // gradient flowing from output, h, c
      auto f = [&](const std::vector<Tensor>& v) {
        auto r = run(c, v);
        return which == 0 ? r.output : which == 1 ? r.h : r.c;
      };
      auto in = inputs(c, gen);
      auto r = gradcheck(f, in);
      EXPECT_TRUE(r.ok) << "n=" << c.n << " t=" << c.t << " which=" << which << ": " << r.message;
      Tensor seed = rnd(f(in).shape(), gen);
      auto g64 = grads(f, in, seed, DType::f64), g32 = grads(f, in, seed, DType::f32);
      const bool used[6] = {true, true, true, c.bias, c.h0, c.c0};
      for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(g32[i].defined(), used[i]) << i;
        if (used[i]) {
          EXPECT_LT(max_diff(g32[i], g64[i]), 1e-4) << "input " << i << " n=" << c.n << " which=" << which;
        }
      }
    }
}

TEST(LSTM, RepeatedStepCreatesNoPrimitive) {
  Generator gen(23);
  Case c{8, 20, 16, 10, true, false, false, false};
  auto in = inputs(c, gen);
  for (Tensor& t : in) t = t.to(DType::f32);
  auto f = [&](const std::vector<Tensor>& v) { return run(c, v).output; };
  Tensor seed = Tensor::ones({8, 10});
  grads(f, in, seed, DType::f32);
  const int64_t before = dnnl_glue::primitive_creations();
  grads(f, in, seed, DType::f32);
  EXPECT_EQ(dnnl_glue::primitive_creations(), before);
}

TEST(LSTM, BadInputsNameBothShapes) {
  Tensor x = Tensor::zeros({2, 5, 3}), r = Tensor::zeros({4, 16});
  EXPECT_EQ(error_of([&] { ops::lstm(x, Tensor::zeros({4, 16}), r, Tensor(), Tensor(), Tensor(), false); }),
            "lstm: kernel [4,16] f32 does not match [3,16] f32 for input [2,5,3]");
  EXPECT_EQ(error_of([&] { ops::lstm(x, Tensor::zeros({3, 16}), Tensor::zeros({4, 12}), Tensor(), Tensor(), Tensor(), false); }),
            "lstm: recurrent_kernel must be [units, 4*units], got [4,12]");
  EXPECT_EQ(error_of([&] { ops::lstm(x, Tensor::zeros({3, 16}), r, Tensor::zeros({12}), Tensor(), Tensor(), false); }),
            "lstm: bias [12] f32 does not match [16] f32 for input [2,5,3]");
  EXPECT_EQ(error_of([&] { ops::lstm(x, Tensor::zeros({3, 16}), r, Tensor(), Tensor::zeros({3, 4}), Tensor(), false); }),
            "lstm: initial h [3,4] f32 does not match [2,4] f32 for input [2,5,3]");
  EXPECT_EQ(error_of([&] { ops::lstm(Tensor::zeros({2, 5}), Tensor::zeros({3, 16}), r, Tensor(), Tensor(), Tensor(), false); }),
            "lstm: input must be [N,T,in], got [2,5]");
}
