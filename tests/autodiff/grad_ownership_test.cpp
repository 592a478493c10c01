// grad() and GradientTape::gradient return tensors the caller owns: writing one in place changes
// neither another returned gradient nor the caller's output_gradient seed.
#include <gtest/gtest.h>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/variable.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"

using namespace keel;

namespace {

TEST(GradOwnership, GradientsOfAddDoNotAliasEachOther) {
  Variable a("a", Tensor::from_vector<float>({1, 2})), b("b", Tensor::from_vector<float>({3, 4}));
  GradientTape tape;
  Tensor loss = ops::sum(ops::add(a.value(), b.value()));
  auto g = tape.gradient(loss, std::vector<Variable>{a, b});
  EXPECT_FALSE(g[0].same_storage(g[1]));
  g[0].add_(Tensor::from_vector<float>({100, 100}));
  EXPECT_EQ(g[0].to_vector<float>(), (std::vector<float>{101, 101}));
  EXPECT_EQ(g[1].to_vector<float>(), (std::vector<float>{1, 1}));
}

TEST(GradOwnership, GradientDoesNotAliasTheSeed) {
  Tensor x = Tensor::from_vector<float>({1, 2}).set_requires_grad(true);
  Tensor seed = Tensor::from_vector<float>({5, 6});
  auto gx = grad(ops::add(x, 1.0), {x}, seed);
  EXPECT_FALSE(gx[0].same_storage(seed));
  gx[0].fill_(0);
  EXPECT_EQ(seed.to_vector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(gx[0].to_vector<float>(), (std::vector<float>{0, 0}));
}

TEST(GradOwnership, TheSameSourceTwiceGetsTwoTensors) {
  Tensor x = Tensor::from_vector<double>({1, 2}).set_requires_grad(true);
  auto g = grad(ops::sum(ops::square(x)), {x, x});
  EXPECT_FALSE(g[0].same_storage(g[1]));
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{2, 4}));
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{2, 4}));
}

TEST(GradOwnership, UnaliasedGradientsAreNotCopied) {
  Tensor x = Tensor::from_vector<double>({1, 2}).set_requires_grad(true);
  Tensor w = Tensor::from_vector<double>({3, 4}).set_requires_grad(true);
  auto g = grad(ops::sum(ops::mul(x, w)), {x, w});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_FALSE(g[0].requires_grad());
}

}  // namespace
