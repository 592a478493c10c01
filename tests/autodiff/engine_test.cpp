#include <gtest/gtest.h>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradcheck.h"
#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/node.h"

using namespace keel;

namespace {

// Test-local ops built directly on the recorder, so the engine is tested without ops/.
Tensor t_add(const Tensor& a, const Tensor& b) {
  Tensor out = a.detach().clone();
  out.add_(b.detach());
  if (should_record({a, b})) record("t_add", {a, b}, out, [](const Tensor& g) { return std::vector<Tensor>{g, g}; });
  return out;
}

Tensor t_mul(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  for (int64_t i = 0; i < a.numel(); ++i) out.data<double>()[i] = a.data<double>()[i] * b.data<double>()[i];
  if (should_record({a, b}))
    record("t_mul", {a, b}, out, [a = a.detach(), b = b.detach()](const Tensor& g) {
      return std::vector<Tensor>{t_mul(g, b), t_mul(g, a)};
    });
  return out;
}

Tensor t_sum(const Tensor& a) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += a.data<double>()[i];
  Tensor out = Tensor::scalar(s, DType::f64);
  if (should_record({a}))
    record("t_sum", {a}, out, [shape = a.shape()](const Tensor& g) {
      return std::vector<Tensor>{Tensor::full(shape, g.item<double>(), DType::f64)};
    });
  return out;
}

}  // namespace

TEST(Autodiff, NoRecordingWithoutRequiresGrad) {
  Tensor a = Tensor::ones({2}, DType::f64), b = Tensor::ones({2}, DType::f64);
  EXPECT_FALSE(t_add(a, b).requires_grad());
  a.set_requires_grad();
  EXPECT_TRUE(t_add(a, b).requires_grad());
  NoGradGuard off;
  EXPECT_FALSE(t_add(a, b).requires_grad());
  EXPECT_EQ(t_add(a, b).grad_fn(), nullptr);
}

TEST(Autodiff, FanOutAccumulates) {
  Tensor x = Tensor::from_vector<double>({2, 3}).set_requires_grad();
  Tensor y = t_sum(t_add(t_mul(x, x), x));  // d/dx = 2x + 1
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 7}));
  // A second backward accumulates into .grad, like libtorch.
  t_sum(x).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 8}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autodiff, GraphFreedUnlessRetained) {
  Tensor x = Tensor::from_vector<double>({2}).set_requires_grad();
  Tensor y = t_sum(t_mul(x, x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().item<double>(), 8);
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autodiff, NonScalarNeedsSeed) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}).set_requires_grad();
  Tensor y = t_mul(x, x);
  try {
    y.backward();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "backward: root of shape [3] is not a scalar; pass a seed gradient of that shape");
  }
  y.backward(Tensor::ones({3}, DType::f64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4, 6}));
}

TEST(Autodiff, LongChainNeitherRecursesNorLeaks) {
  Tensor x = Tensor::from_vector<double>({1}).set_requires_grad();
  Tensor one = Tensor::from_vector<double>({1});
  Tensor c = x;
  for (int i = 0; i < 100000; ++i) c = t_add(c, one);
  EXPECT_EQ(c.item<double>(), 100001);
  c.backward();
  EXPECT_EQ(x.grad().item<double>(), 1);
  c = Tensor();  // destroying the 100,000-node chain must not overflow the stack either
}

TEST(Autodiff, GradientTapeAndGradDoNotTouchDotGrad) {
  Variable w("w", Tensor::from_vector<double>({3}));
  Tensor x = Tensor::from_vector<double>({4});
  GradientTape tape;
  Tensor y = t_sum(t_mul(w.value(), x));
  auto g = tape.gradient(y, std::vector<Variable>{w});
  EXPECT_EQ(g[0].item<double>(), 4);
  EXPECT_FALSE(w.grad().defined());
  EXPECT_THROW(tape.gradient(y, std::vector<Variable>{w}), Error);  // not persistent
}

TEST(Autodiff, TapeWatchAndUnconnectedZeros) {
  Tensor x = Tensor::from_vector<double>({2});
  Tensor z = Tensor::from_vector<double>({5, 6});
  GradientTape tape(/*persistent=*/true);
  tape.watch(x);
  tape.watch(z);
  Tensor y = t_sum(t_mul(x, x));
  auto g = tape.gradient(y, {x, z});
  EXPECT_EQ(g[0].item<double>(), 4);
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{0, 0}));
  auto g2 = tape.gradient(y, {x});
  EXPECT_EQ(g2[0].item<double>(), 4);
}

TEST(Autodiff, NonLeafSourceGradient) {
  Tensor x = Tensor::from_vector<double>({3}).set_requires_grad();
  Tensor h = t_mul(x, x);
  Tensor y = t_sum(t_mul(h, h));
  auto g = grad(y, {h, x});
  EXPECT_EQ(g[0].item<double>(), 18);   // 2h
  EXPECT_EQ(g[1].item<double>(), 108);  // 4x^3
}

TEST(Autodiff, WrongGradientShapeNamesTheNode) {
  Tensor x = Tensor::from_vector<double>({1, 2}).set_requires_grad();
  Tensor out = Tensor::scalar(0, DType::f64);
  record("bad_op", {x}, out, [](const Tensor&) { return std::vector<Tensor>{Tensor::zeros({3}, DType::f64)}; });
  try {
    out.backward();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "backward of 'bad_op': gradient for input 0 is [3] f64, input is [2] f64");
  }
}

TEST(Autodiff, GradcheckDetectsWrongGradients) {
  auto good = gradcheck([](const std::vector<Tensor>& in) { return t_mul(in[0], in[1]); },
                        {Tensor::from_vector<double>({1, 2, 3}), Tensor::from_vector<double>({-1, 0.5, 2})});
  EXPECT_TRUE(good.ok) << good.message;
  auto bad = gradcheck(
      [](const std::vector<Tensor>& in) {
        Tensor out = in[0].detach().clone();
        if (should_record({in[0]}))
          record("wrong", {in[0]}, out, [](const Tensor& g) { return std::vector<Tensor>{t_add(g, g)}; });
        return out;
      },
      {Tensor::from_vector<double>({1, 2})});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("analytic"), std::string::npos);
}

// More inputs than a node keeps inline, and shapes of higher rank than InputMeta keeps inline.
TEST(Autodiff, ManyInputsAndHighRankShapes) {
  const Shape s5{1, 2, 1, 2, 1}, s6{2, 1, 1, 1, 1, 1};
  Tensor a = Tensor::full(s5, 1, DType::f64).set_requires_grad();
  Tensor b = Tensor::full({2}, 2, DType::f64).set_requires_grad();
  Tensor c = Tensor::full(s6, 3, DType::f64).set_requires_grad();
  Tensor skip = Tensor::full({3}, 4, DType::f64);  // needs no gradient: an invalid edge in between
  Tensor out = Tensor::scalar(0, DType::f64);
  record("four_in", {a, skip, b, c}, out, [s5, s6](const Tensor& g) {
    const double v = g.item<double>();
    return std::vector<Tensor>{Tensor::full(s5, v, DType::f64), Tensor(), Tensor::full({2}, 2 * v, DType::f64),
                               Tensor::full(s6, 3 * v, DType::f64)};
  });
  ASSERT_EQ(out.grad_fn()->inputs().size(), 4u);
  EXPECT_EQ(out.grad_fn()->inputs()[0].shape(), s5);
  EXPECT_FALSE(out.grad_fn()->inputs()[1].edge.valid());
  EXPECT_EQ(out.grad_fn()->inputs()[3].shape(), s6);
  out.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), std::vector<double>(4, 1));
  EXPECT_EQ(b.grad().to_vector<double>(), std::vector<double>(2, 2));
  EXPECT_EQ(c.grad().to_vector<double>(), std::vector<double>(2, 3));

  Tensor bad = Tensor::scalar(0, DType::f64);
  record("bad_rank5", {c, a}, bad, [](const Tensor&) {
    return std::vector<Tensor>{Tensor(), Tensor::zeros({1, 2, 1, 2, 2}, DType::f64)};
  });
  try {
    bad.backward();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "backward of 'bad_rank5': gradient for input 1 is [1,2,1,2,2] f64, input is "
                           "[1,2,1,2,1] f64");
  }
}
