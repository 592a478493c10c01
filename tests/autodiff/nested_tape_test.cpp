// Nested GradientTapes: keel's gradients are first-order, so a tape asked to differentiate through the
// gradient a nested tape returned (TensorFlow's second-derivative idiom, or a gradient penalty) must
// refuse by name rather than silently leave that path out.
#include <gtest/gtest.h>

#include "error_of.h"
#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/variable.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"

using namespace keel;
using keel::test::error_of;

namespace {

Tensor cube_sum(const Variable& x) { return ops::sum(ops::mul(ops::square(x.value()), x.value())); }

TEST(NestedTapes, DifferentiatingAnInnerGradientIsRefusedByName) {
  Variable x("x", Tensor::from_vector<double>({1.5, -2.0}));
  GradientTape outer(/*persistent=*/true);
  Tensor g;
  {
    GradientTape inner;
    g = inner.gradient(cube_sum(x), std::vector<Variable>{x})[0];
  }
  // The first derivative itself is right: 3x^2.
  EXPECT_DOUBLE_EQ(g.data<double>()[0], 3 * 1.5 * 1.5);
  EXPECT_DOUBLE_EQ(g.data<double>()[1], 3 * 4.0);
  // d/dx sum(g) would be 6x: keel cannot give it, and says so instead of returning 0.
  Tensor penalty = ops::sum(ops::square(g));
  const std::string err = error_of([&] { outer.gradient(penalty, std::vector<Variable>{x}); });
  EXPECT_NE(err.find("nested"), std::string::npos) << err;
  EXPECT_NE(err.find("second-order"), std::string::npos) << err;
  EXPECT_NE(err.find("source 0"), std::string::npos) << err;
  // What does not pass through the inner gradient still differentiates: d/dx sum(x^3) = 3x^2.
  Tensor direct = outer.gradient(cube_sum(x), std::vector<Variable>{x})[0];
  EXPECT_DOUBLE_EQ(direct.data<double>()[1], 12.0);
}

TEST(NestedTapes, AGradientTakenWithNoOtherTapeIsAPlainTensor) {
  Variable x("x", Tensor::from_vector<double>({1.5}));
  GradientTape tape;
  Tensor g = tape.gradient(cube_sum(x), std::vector<Variable>{x})[0];
  EXPECT_FALSE(g.requires_grad());
  EXPECT_DOUBLE_EQ(g.item<double>(), 3 * 1.5 * 1.5);
}

}  // namespace
