// tf.GradientTape.gradient differentiates a target of several elements as their sum; keel's tape used to
// refuse it ("root of shape [4,2] is not a scalar"), which TensorFlow code ported as is ran into.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/generator.h"
#include "keel/graph/variable.h"
#include "keel/ops/activation.h"
#include "keel/ops/linalg.h"
#include "keel/ops/reduce.h"

using namespace keel;

TEST(TapeNonScalarTarget, GradientIsThatOfTheSumAndMatchesFiniteDifferences) {
  Generator gen(5);
  Variable w("w", Tensor::uniform({3, 2}, gen, -1, 1, DType::f64));
  const Tensor x = Tensor::uniform({4, 3}, gen, -1, 1, DType::f64);
  auto f = [&] { return ops::tanh(ops::matmul(x, w.value())); };
  GradientTape tape;
  const Tensor y = f();
  ASSERT_EQ(y.shape(), (Shape{4, 2}));
  const Tensor g = tape.gradient(y, std::vector<Variable>{w})[0];
  ASSERT_EQ(g.shape(), (Shape{3, 2}));
  const double eps = 1e-6;
  for (int64_t i = 0; i < w.value().numel(); ++i) {
    Tensor wv = w.value();
    double* p = wv.data<double>() + i;
    const double orig = *p;
    double s[2];
    for (int k = 0; k < 2; ++k) {
      *p = orig + (k ? -eps : eps);
      NoGradGuard no_grad;
      s[k] = ops::sum(f()).item<double>();
    }
    *p = orig;
    EXPECT_NEAR(g.data<double>()[i], (s[0] - s[1]) / (2 * eps), 1e-8) << "element " << i;
  }
}

TEST(TapeNonScalarTarget, TargetThatIsTheSourceGivesOnes) {
  Variable v("v", Tensor::full({2, 3}, 4.0, DType::f64));
  GradientTape tape;
  const Tensor g = tape.gradient(v.value(), std::vector<Variable>{v})[0];
  EXPECT_TRUE(g.equal(Tensor::ones({2, 3}, DType::f64)));
}

TEST(TapeNonScalarTarget, AnOutputGradientStillWeighsTheElements) {
  Variable v("v", Tensor::full({2}, 1.0, DType::f64));
  GradientTape tape;
  const Tensor y = ops::softmax(v.value());
  const Tensor g = tape.gradient(y, std::vector<Variable>{v}, Tensor::from_vector<double>({1, 0}))[0];
  EXPECT_NEAR(g.data<double>()[0], 0.25, 1e-15);  // d softmax_0 / d v_0 = p0 (1 - p0)
  EXPECT_NEAR(g.data<double>()[1], -0.25, 1e-15);
}
