// ops::lstm with a mask: outputs and states against a double-precision reference that follows Keras's
// backend.rnn step by step (prev_output, masked states), on f64 and f32; gradients checked against
// finite differences (f64) and the f32 backward against the f64 one.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/lstm.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

namespace {

constexpr int64_t N = 4, T = 5, IN = 3, U = 2;

// Rows: valid everywhere; padded at the end; padded at the start; a gap in the middle. Row 4 of the
// five-row variant is masked everywhere.
const std::vector<std::vector<bool>> kRows = {
    {true, true, true, true, true}, {true, true, false, false, false},
    {false, false, true, true, true}, {true, false, false, true, false}, {false, false, false, false, false}};

Tensor mask_of(int64_t n) {
  Tensor m = Tensor::zeros({n, T}, DType::boolean);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < T; ++t) m.data<bool>()[i * T + t] = kRows[i][t];
  return m;
}

double sig(double v) { return 1 / (1 + std::exp(-v)); }

struct Ref {
  std::vector<double> out, h, c;  // out [n, T or 1, U]
};

// Keras's backend.rnn with a mask: new output and states where the mask holds; elsewhere the previous
// output (zeros at first) or zeros (zero_output_for_mask), and the previous states.
Ref reference(const std::vector<Tensor>& in, int64_t n, bool h0, bool c0, bool seq, bool zero_out) {
  const Tensor x = in[0].to(DType::f64), w = in[1].to(DType::f64), r = in[2].to(DType::f64), b = in[3].to(DType::f64);
  Ref ref;
  for (int64_t row = 0; row < n; ++row) {
    std::vector<double> h(U, 0), c(U, 0), prev_out(U, 0);
    for (int64_t k = 0; k < U; ++k) {
      if (h0) h[k] = in[4].to(DType::f64).data<double>()[row * U + k];
      if (c0) c[k] = in[5].to(DType::f64).data<double>()[row * U + k];
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> hn(U), cn(U);
      for (int64_t k = 0; k < U; ++k) {
        double z[4];
        for (int g = 0; g < 4; ++g) {
          const int64_t col = g * U + k;
          double acc = b.data<double>()[col];
          for (int64_t i = 0; i < IN; ++i) acc += x.at<double>({row, t, i}) * w.at<double>({i, col});
          for (int64_t i = 0; i < U; ++i) acc += h[i] * r.at<double>({i, col});
          z[g] = acc;
        }
        cn[k] = sig(z[1]) * c[k] + sig(z[0]) * std::tanh(z[2]);
        hn[k] = sig(z[3]) * std::tanh(cn[k]);
      }
      const bool valid = kRows[row][t];
      std::vector<double> out = valid ? hn : zero_out ? std::vector<double>(U, 0) : prev_out;
      if (valid) h = hn, c = cn;
      prev_out = out;
      if (seq) ref.out.insert(ref.out.end(), out.begin(), out.end());
    }
    if (!seq) ref.out.insert(ref.out.end(), prev_out.begin(), prev_out.end());
    ref.h.insert(ref.h.end(), h.begin(), h.end());
    ref.c.insert(ref.c.end(), c.begin(), c.end());
  }
  return ref;
}

double max_err(const Tensor& got, const std::vector<double>& want) {
  const Tensor g = got.to(DType::f64);
  EXPECT_EQ(g.numel(), static_cast<int64_t>(want.size()));
  double e = 0;
  for (size_t i = 0; i < want.size(); ++i) e = std::max(e, std::abs(g.data<double>()[i] - want[i]));
  return e;
}

std::vector<Tensor> inputs(int64_t n, Generator& gen) {
  return {rnd({n, T, IN}, gen), rnd({IN, 4 * U}, gen, -0.7, 0.7), rnd({U, 4 * U}, gen, -0.7, 0.7),
          rnd({4 * U}, gen, -0.5, 0.5), rnd({n, U}, gen), rnd({n, U}, gen)};
}

}  // namespace

TEST(LSTMMask, OutputsAndStatesMatchKerasMaskedRnnOnF64AndF32) {
  Generator gen(5);
  for (int64_t n : {N, N + 1})
    for (bool states : {false, true})
      for (bool seq : {false, true})
        for (bool zero_out : {false, true}) {
          const auto in = inputs(n, gen);
          const Ref ref = reference(in, n, states, states, seq, zero_out);
          for (DType dt : {DType::f64, DType::f32}) {
            auto v = [&](int i) { return in[i].to(dt); };
            auto r = ops::lstm(v(0), v(1), v(2), v(3), states ? v(4) : Tensor(), states ? v(5) : Tensor(), seq,
                               mask_of(n), zero_out);
            const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
            const std::string what = "n=" + std::to_string(n) + " states=" + std::to_string(states) +
                                     " seq=" + std::to_string(seq) + " zero_out=" + std::to_string(zero_out) + " " +
                                     dtype_name(dt);
            EXPECT_LT(max_err(r.output, ref.out), tol) << what;
            EXPECT_LT(max_err(r.h, ref.h), tol) << what;
            EXPECT_LT(max_err(r.c, ref.c), tol) << what;
          }
        }
}

TEST(LSTMMask, GradcheckF64AndF32BackwardWithAMask) {
  Generator gen(6);
  for (bool seq : {false, true})
    for (bool zero_out : {false, true})
      for (int which = 0; which < 3; ++which) {
        auto f = [&](const std::vector<Tensor>& v) {
          auto r = ops::lstm(v[0], v[1], v[2], v[3], v[4], v[5], seq, mask_of(N + 1), zero_out);
          return which == 0 ? r.output : which == 1 ? r.h : r.c;
        };
        auto in = inputs(N + 1, gen);
        auto r = gradcheck(f, in);
        EXPECT_TRUE(r.ok) << "seq=" << seq << " zero_out=" << zero_out << " which=" << which << ": " << r.message;
        Tensor seed = rnd(f(in).shape(), gen);
        auto g64 = grads(f, in, seed, DType::f64), g32 = grads(f, in, seed, DType::f32);
        for (int i = 0; i < 6; ++i)
          EXPECT_LT(max_diff(g32[i], g64[i]), 1e-4) << "input " << i << " seq=" << seq << " which=" << which;
        // A masked step's input gets no gradient (row 1 from step 2 on).
        const Tensor gx = g64[0];
        for (int64_t t = 2; t < T; ++t)
          for (int64_t i = 0; i < IN; ++i) EXPECT_EQ(gx.at<double>({1, t, i}), 0.0);
      }
}

TEST(LSTMMask, AMaskOfAnotherShapeOrDtypeIsAnErrorNamingBoth) {
  Generator gen(7);
  const auto in = inputs(N, gen);
  auto call = [&](const Tensor& m) { ops::lstm(in[0], in[1], in[2], in[3], {}, {}, false, m); };
  EXPECT_THROW(call(Tensor::zeros({N, T + 1}, DType::boolean)), Error);
  try {
    call(Tensor::zeros({N, T}, DType::f32));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "lstm: mask [4,5] f32 does not match [4,5] bool for input [4,5,3]");
  }
}
