// matmul and dense against plain reference kernels written here, their gradients by finite
// differences in f64, exact error messages, and the oneDNN primitive cache.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradcheck.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/linalg.h"

using namespace keel;
using ops::Activation;

namespace {

// Reference batched product in double: a [..., m, k] (or [..., k, m] when ta), b likewise, NumPy
// broadcasting over the batch dims.
Tensor ref_matmul(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb) {
  const Tensor a = a_in.to(DType::f64), b = b_in.to(DType::f64);
  Shape as = a.shape(), bs = b.shape();
  const int64_t m = ta ? as.back() : as[as.size() - 2], k = ta ? as[as.size() - 2] : as.back();
  const int64_t n = tb ? bs[bs.size() - 2] : bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  while (ab.size() < bb.size()) ab.insert(ab.begin(), 1);
  while (bb.size() < ab.size()) bb.insert(bb.begin(), 1);
  Shape ob(ab.size());
  for (size_t i = 0; i < ab.size(); ++i) ob[i] = std::max(ab[i], bb[i]);
  Shape os = ob;
  os.push_back(m);
  os.push_back(n);
  Tensor out = Tensor::zeros(os, DType::f64);
  int64_t batches = 1;
  for (int64_t d : ob) batches *= d;
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t rem = bi, ai = 0, bj = 0, astr = 1, bstr = 1;
    for (size_t d = ob.size(); d-- > 0;) {
      const int64_t idx = rem % ob[d];
      rem /= ob[d];
      ai += (ab[d] == 1 ? 0 : idx) * astr;
      bj += (bb[d] == 1 ? 0 : idx) * bstr;
      astr *= ab[d];
      bstr *= bb[d];
    }
    const double* pa = a.data<double>() + ai * m * k;
    const double* pb = b.data<double>() + bj * k * n;
    double* pc = out.data<double>() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += (ta ? pa[p * m + i] : pa[i * k + p]) * (tb ? pb[j * k + p] : pb[p * n + j]);
        pc[i * n + j] = s;
      }
  }
  return out;
}

double ref_act(double z, Activation a) {
  const double sig = 1 / (1 + std::exp(-z));
  switch (a) {
    case Activation::relu: return z > 0 ? z : 0;
    case Activation::sigmoid: return sig;
    case Activation::tanh: return std::tanh(z);
    case Activation::elu: return z > 0 ? z : std::exp(z) - 1;
    case Activation::softplus: return std::log(1 + std::exp(z));
    case Activation::softsign: return z / (1 + std::fabs(z));
    case Activation::swish: return z * sig;
    case Activation::gelu: return 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
    case Activation::exponential: return std::exp(z);
    default: return z;
  }
}

// x [..., in] · w + b, then the activation (softmax over the last axis), in double.
Tensor ref_dense(const Tensor& x, const Tensor& w, const Tensor& b, Activation a) {
  const int64_t in = w.size(0), units = w.size(1);
  Tensor z = ref_matmul(x.view({x.numel() / in, in}), w, false, false);
  double* p = z.data<double>();
  const Tensor b64 = b.defined() ? b.to(DType::f64) : Tensor::zeros({units}, DType::f64);
  for (int64_t r = 0; r < z.size(0); ++r) {
    double* row = p + r * units;
    for (int64_t j = 0; j < units; ++j) row[j] = ref_act(row[j] + b64.data<double>()[j], a);
    if (a == Activation::softmax) {
      double mx = row[0], s = 0;
      for (int64_t j = 0; j < units; ++j) mx = std::max(mx, row[j]);
      for (int64_t j = 0; j < units; ++j) s += row[j] = std::exp(row[j] - mx);
      for (int64_t j = 0; j < units; ++j) row[j] /= s;
    }
  }
  Shape os = x.shape();
  os.back() = units;
  return z.view(os);
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(shape_str(got.shape()), shape_str(want.shape()));
  const Tensor g = got.to(DType::f64), w = want.to(DType::f64);
  for (int64_t i = 0; i < g.numel(); ++i)
    ASSERT_NEAR(g.data<double>()[i], w.data<double>()[i], tol * (1 + std::fabs(w.data<double>()[i]))) << "at " << i;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Shape stored(int64_t r, int64_t c, bool t, Shape batch = {}) {
  batch.push_back(t ? c : r);
  batch.push_back(t ? r : c);
  return batch;
}

const Activation kAll[] = {Activation::linear, Activation::relu,     Activation::sigmoid,  Activation::tanh,
                           Activation::softmax, Activation::elu,     Activation::softplus, Activation::softsign,
                           Activation::swish,  Activation::gelu,     Activation::exponential};

}  // namespace

TEST(Matmul, MatchesReferenceOddSizesAllTransposes) {
  Generator gen(1);
  for (DType dt : {DType::f32, DType::f64})
    for (auto [m, k, n] : {std::array<int64_t, 3>{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 130, 3}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          Tensor a = Tensor::uniform(stored(m, k, ta), gen, -1, 1, dt);
          Tensor b = Tensor::uniform(stored(k, n, tb), gen, -1, 1, dt);
          SCOPED_TRACE(shape_str(a.shape()) + " x " + shape_str(b.shape()) + (ta ? " ta" : "") + (tb ? " tb" : ""));
          Tensor c = ops::matmul(a, b, ta, tb);
          EXPECT_EQ(c.dtype(), dt);
          expect_close(c, ref_matmul(a, b, ta, tb), dt == DType::f32 ? 1e-5 : 1e-12);
        }
}

TEST(Matmul, BatchedWithBroadcast) {
  Generator gen(2);
  for (DType dt : {DType::f32, DType::f64})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = Tensor::uniform(stored(3, 4, ta, {2, 1}), gen, -1, 1, dt);  // [2,1,3,4]
        Tensor b = Tensor::uniform(stored(4, 5, tb, {5}), gen, -1, 1, dt);     // [5,4,5]
        Tensor c = ops::matmul(a, b, ta, tb);
        EXPECT_EQ(shape_str(c.shape()), "[2,5,3,5]");
        expect_close(c, ref_matmul(a, b, ta, tb), dt == DType::f32 ? 1e-5 : 1e-12);
        // Batched by 2-D: the matrix is shared by every batch.
        Tensor w = Tensor::uniform(stored(4, 2, tb), gen, -1, 1, dt);
        expect_close(ops::matmul(a, w, ta, tb), ref_matmul(a, w, ta, tb), dt == DType::f32 ? 1e-5 : 1e-12);
      }
}

TEST(Matmul, EmptyDimensions) {
  Tensor c = ops::matmul(Tensor::ones({0, 3}), Tensor::ones({3, 4}));
  EXPECT_EQ(shape_str(c.shape()), "[0,4]");
  Tensor z = ops::matmul(Tensor::ones({2, 0}), Tensor::ones({0, 3}));  // empty sum
  EXPECT_TRUE(z.equal(Tensor::zeros({2, 3})));
}

TEST(Matmul, ErrorMessages) {
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({32, 784}), Tensor::zeros({128, 10})); }),
            "matmul: [32,784] x [128,10]: inner dimensions 784 and 128 differ");
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({784, 32}), Tensor::zeros({128, 10}), true); }),
            "matmul: [784,32]^T x [128,10]: inner dimensions 784 and 128 differ");
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({5, 4, 6})); }),
            "matmul: [2,3,4] x [5,4,6]: batch dimensions [2] and [5] do not broadcast");
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({3}), Tensor::zeros({3, 4})); }),
            "matmul: [3] x [3,4]: both operands need rank >= 2");
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 4}, DType::f64)); }),
            "matmul: [2,3] f32 x [3,4] f64: dtypes differ");
  EXPECT_EQ(error_of([] { ops::matmul(Tensor::zeros({2, 3}, DType::i32), Tensor::zeros({3, 4}, DType::i32)); }),
            "matmul: [2,3] x [3,4]: dtype i32 is not supported (f32 or f64)");
}

TEST(Matmul, GradcheckAllTransposesAndBroadcast) {
  Generator gen(3);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      auto f = [ta, tb](const std::vector<Tensor>& in) { return ops::matmul(in[0], in[1], ta, tb); };
      auto r = gradcheck(f, {Tensor::uniform(stored(3, 4, ta), gen, -1, 1, DType::f64),
                             Tensor::uniform(stored(4, 2, tb), gen, -1, 1, DType::f64)});
      EXPECT_TRUE(r.ok) << r.message;
      auto rb = gradcheck(f, {Tensor::uniform(stored(2, 3, ta, {2, 1}), gen, -1, 1, DType::f64),
                              Tensor::uniform(stored(3, 2, tb, {3}), gen, -1, 1, DType::f64)});
      EXPECT_TRUE(rb.ok) << rb.message;
    }
}

TEST(Matmul, GradientOnlyForInputsThatNeedIt) {
  Tensor a = Tensor::ones({2, 3}).set_requires_grad();
  Tensor b = Tensor::ones({3, 4});
  Tensor c = ops::matmul(a, b);
  c.backward(Tensor::ones({2, 4}));
  EXPECT_TRUE(a.grad().equal(Tensor::full({2, 3}, 4)));
  EXPECT_FALSE(b.grad().defined());
}

TEST(Dense, MatchesReferenceEveryActivation) {
  Generator gen(4);
  for (DType dt : {DType::f32, DType::f64})
    for (Activation act : kAll)
      for (bool with_bias : {true, false}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " activation #" + std::to_string(static_cast<int>(act)));
        Tensor x = Tensor::uniform({2, 3, 5}, gen, -2, 2, dt);
        Tensor w = Tensor::uniform({5, 7}, gen, -1, 1, dt);
        Tensor b = with_bias ? Tensor::uniform({7}, gen, -1, 1, dt) : Tensor();
        expect_close(ops::dense(x, w, b, act), ref_dense(x, w, b, act), dt == DType::f32 ? 2e-5 : 1e-12);
        // Also while recording (some activations then run unfused).
        Tensor xr = x.clone().set_requires_grad();
        expect_close(ops::dense(xr, w, b, act), ref_dense(x, w, b, act), dt == DType::f32 ? 2e-5 : 1e-12);
      }
}

TEST(Dense, GradcheckEveryActivation) {
  Generator gen(5);
  for (Activation act : kAll) {
    SCOPED_TRACE("activation #" + std::to_string(static_cast<int>(act)));
    auto f = [act](const std::vector<Tensor>& in) { return ops::dense(in[0], in[1], in[2], act); };
    auto r = gradcheck(f, {Tensor::uniform({2, 2, 3}, gen, -1, 1, DType::f64),
                           Tensor::uniform({3, 4}, gen, -1, 1, DType::f64),
                           Tensor::uniform({4}, gen, -0.5, 0.5, DType::f64)});
    EXPECT_TRUE(r.ok) << r.message;
    auto nb = [act](const std::vector<Tensor>& in) { return ops::dense(in[0], in[1], Tensor(), act); };
    auto r2 = gradcheck(nb, {Tensor::uniform({3, 3}, gen, -1, 1, DType::f64),
                             Tensor::uniform({3, 2}, gen, -1, 1, DType::f64)});
    EXPECT_TRUE(r2.ok) << r2.message;
  }
}

// The f32 path fuses the activation into oneDNN and takes its gradient from the saved output; it must
// agree with the f64 path, whose gradient is checked by finite differences above.
TEST(Dense, FusedF32GradientsAgreeWithF64) {
  Generator gen(6);
  for (Activation act : kAll) {
    SCOPED_TRACE("activation #" + std::to_string(static_cast<int>(act)));
    Tensor x = Tensor::uniform({4, 6}, gen, -1, 1, DType::f64);
    Tensor w = Tensor::uniform({6, 5}, gen, -1, 1, DType::f64);
    Tensor b = Tensor::uniform({5}, gen, -1, 1, DType::f64);
    Tensor seed = Tensor::uniform({4, 5}, gen, -1, 1, DType::f64);
    std::vector<Tensor> grads[2];
    for (DType dt : {DType::f32, DType::f64}) {
      std::vector<Tensor> in{x.to(dt).set_requires_grad(), w.to(dt).set_requires_grad(), b.to(dt).set_requires_grad()};
      Tensor y = ops::dense(in[0], in[1], in[2], act);
      grads[dt == DType::f64] = grad(y, in, seed.to(dt));
    }
    for (size_t i = 0; i < 3; ++i) expect_close(grads[0][i], grads[1][i], 1e-4);
  }
}

TEST(Dense, RepeatedStepCreatesNoPrimitive) {
  Generator gen(7);
  Tensor x = Tensor::uniform({32, 20}, gen, -1, 1);
  Tensor w = Tensor::uniform({20, 8}, gen, -1, 1).set_requires_grad();
  Tensor b = Tensor::zeros({8}).set_requires_grad();
  Tensor w2 = Tensor::uniform({8, 3}, gen, -1, 1).set_requires_grad();
  auto step = [&] {
    Tensor h = ops::dense(x, w, b, Activation::relu);
    Tensor y = ops::matmul(h, w2);
    y.backward(Tensor::ones({32, 3}));
  };
  step();
  const int64_t after_first = dnnl_glue::primitive_creations();
  EXPECT_GT(after_first, 0);
  step();
  step();
  EXPECT_EQ(dnnl_glue::primitive_creations(), after_first);
}

TEST(Dense, ErrorMessages) {
  EXPECT_EQ(error_of([] { ops::dense(Tensor::zeros({32, 784}), Tensor::zeros({128, 10}), Tensor()); }),
            "dense: [32,784] x [128,10]: inner dimensions 784 and 128 differ");
  EXPECT_EQ(error_of([] { ops::dense(Tensor::zeros({32, 4}), Tensor::zeros({4, 10}), Tensor::zeros({5})); }),
            "dense: [32,4] x [4,10]: bias [5] does not match 10 units");
  EXPECT_EQ(error_of([] { ops::dense(Tensor::zeros({32, 4}), Tensor::zeros({4, 10, 1}), Tensor()); }),
            "dense: [32,4] x [4,10,1]: kernel must have rank 2");
}

// oneDNN's post-ops turn NaN into 0 (relu is a max) or inf; TensorFlow's Dense gives NaN. A NaN in x
// must reach every unit of its row, and a NaN in w every row of its unit, for every activation, fused
// or not, recording or not.
TEST(Dense, NaNInAnInputReachesTheOutputForEveryActivation) {
  Generator gen(8);
  for (Activation act : kAll)
    for (bool recording : {false, true})
      for (bool in_kernel : {false, true}) {
        SCOPED_TRACE("activation #" + std::to_string(static_cast<int>(act)) + (recording ? " recording" : "") +
                     (in_kernel ? " NaN in kernel" : " NaN in x"));
        Tensor x = Tensor::uniform({4, 5}, gen, -2, 2);
        Tensor w = Tensor::uniform({5, 3}, gen, -1, 1);
        Tensor b = Tensor::uniform({3}, gen, -1, 1);
        (in_kernel ? w.data<float>()[2 * 3 + 1] : x.data<float>()[1 * 5 + 2]) = std::nanf("");
        Tensor y = ops::dense(recording ? x.clone().set_requires_grad() : x, w, b, act);
        const Tensor want = ref_dense(x, w, b, act);
        for (int64_t r = 0; r < 4; ++r)
          for (int64_t j = 0; j < 3; ++j) {
            const float got = y.data<float>()[r * 3 + j];
            const bool nan_expected = in_kernel ? (j == 1 || act == Activation::softmax) : r == 1;
            if (nan_expected)
              EXPECT_TRUE(std::isnan(got)) << "row " << r << " unit " << j << " is " << got;
            else
              EXPECT_NEAR(got, want.data<double>()[r * 3 + j], 2e-5 * (1 + std::fabs(want.data<double>()[r * 3 + j])))
                  << "row " << r << " unit " << j;
          }
      }
}
