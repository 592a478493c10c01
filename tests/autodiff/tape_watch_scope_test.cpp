// tf.GradientTape.watch lasts as long as the tape. keel's watch() set requires_grad on the tensor for
// good: after the tape, every op on it still recorded a graph, and a later backward() accumulated a
// gradient into it (a non-trainable Variable's value included).
#include <gtest/gtest.h>

#include <memory>

#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/variable.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"

using namespace keel;

TEST(TapeWatchScope, WatchEndsWithTheTape) {
  Tensor x = Tensor::from_vector<double>({1, 2});
  {
    GradientTape tape;
    tape.watch(x);
    const Tensor y = ops::sum(ops::mul(x, x));
    EXPECT_EQ(tape.gradient(y, {x})[0].to_vector<double>(), (std::vector<double>{2, 4}));
  }
  EXPECT_FALSE(x.requires_grad());
  EXPECT_EQ(ops::mul(x, 3.0).grad_fn(), nullptr);
}

TEST(TapeWatchScope, NonTrainableVariableGetsNoGradientAfterTheTape) {
  Variable moving("moving", Tensor::ones({2}, DType::f64), /*trainable=*/false);
  {
    GradientTape tape;
    tape.watch(moving.value());
    tape.gradient(ops::sum(moving.value()), {moving.value()});
  }
  Variable w("w", Tensor::ones({2}, DType::f64));
  ops::sum(ops::mul(moving.value(), w.value())).backward();
  EXPECT_FALSE(moving.grad().defined());
  EXPECT_TRUE(w.grad().defined());
}

TEST(TapeWatchScope, LeavesThatRequiredAGradientKeepIt) {
  Variable w("w", Tensor::ones({2}, DType::f64));
  Tensor t = Tensor::ones({2}, DType::f64).set_requires_grad();
  {
    GradientTape tape;
    tape.watch(w.value());
    tape.watch(t);
  }
  EXPECT_TRUE(w.value().requires_grad());
  EXPECT_TRUE(t.requires_grad());
}

TEST(TapeWatchScope, NestedTapesUnwatchWhenTheLastOneEnds) {
  Tensor x = Tensor::from_vector<double>({3});
  GradientTape outer;
  outer.watch(x);
  {
    GradientTape inner;
    inner.watch(x);
  }
  EXPECT_TRUE(x.requires_grad());  // the outer tape still watches it
  const Tensor y = ops::mul(x, x);
  EXPECT_EQ(outer.gradient(y, {x})[0].item<double>(), 6);
}

TEST(TapeWatchScope, AnInnerTapeThatEndsFirstDoesNotUnwatchForTheOuter) {
  Tensor x = Tensor::from_vector<double>({3});
  auto outer = std::make_unique<GradientTape>();
  {
    GradientTape inner;
    inner.watch(x);
    outer->watch(x);
  }
  EXPECT_TRUE(x.requires_grad());
  outer.reset();
  EXPECT_FALSE(x.requires_grad());
}
