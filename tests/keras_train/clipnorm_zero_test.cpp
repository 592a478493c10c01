// clipnorm=0 (or global_clipnorm=0) means "not set", as Keras's `if self.clipnorm and self.clipnorm > 0`:
// a clipvalue given with it still clips.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/keras/optimizers.h"

using namespace keel;
using namespace keel::keras;

namespace {
std::vector<float> step(const SGDOptions& o) {
  SGD opt(o);
  Variable v("v", Tensor::zeros({3}));
  opt.apply_gradients({Tensor::from_vector<float>({2.0f, -3.0f, 0.1f}, {3})}, {v});
  const float* p = v.value().data<float>();
  return {p[0], p[1], p[2]};
}
}  // namespace

TEST(ClipnormZero, ClipvalueStillApplies) {
  const std::vector<float> clipped{-0.5f, 0.5f, -0.1f};
  EXPECT_EQ(step(SGDOptions().learning_rate(1.0).clipvalue(0.5)), clipped);
  EXPECT_EQ(step(SGDOptions().learning_rate(1.0).clipnorm(0).clipvalue(0.5)), clipped);
  EXPECT_EQ(step(SGDOptions().learning_rate(1.0).global_clipnorm(0).clipvalue(0.5)), clipped);
}

TEST(ClipnormZero, PositiveClipnormStillWinsOverClipvalue) {
  // norm of [2, -3, 0.1] is about 3.6069; clipnorm 1 rescales, clipvalue is ignored (Keras: the first set).
  const std::vector<float> got = step(SGDOptions().learning_rate(1.0).clipnorm(1.0).clipvalue(0.5));
  const double n = std::sqrt(4.0 + 9.0 + 0.01);
  EXPECT_NEAR(got[0], -2.0 / n, 1e-6);
  EXPECT_NEAR(got[1], 3.0 / n, 1e-6);
}
