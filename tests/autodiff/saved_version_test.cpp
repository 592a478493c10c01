// In-place writes to a tensor a recorded node saved: the backward must refuse (naming the op and the
// tensor's shape) instead of computing the gradient from the new values. Writes to tensors no backward
// reads, and the usual train loop (update after the gradient), must keep working.
#include <gtest/gtest.h>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/variable.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/linalg.h"
#include "keel/ops/reduce.h"
#include "error_of.h"

using namespace keel;

namespace {

using keel::test::error_of;

TEST(SavedVersion, AssignAfterRecordingIsAnErrorNamingTheOp) {
  Variable w("w", Tensor::from_vector<float>({1, 2, 3}));
  GradientTape tape;
  Tensor y = ops::sum(ops::mul(w.value(), w.value()));
  w.assign(Tensor::from_vector<float>({10, 20, 30}));
  const std::string msg = error_of([&] { tape.gradient(y, std::vector<Variable>{w}); });
  EXPECT_NE(msg.find("backward through 'mul'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape [3] f32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("modified in place after it was recorded"), std::string::npos) << msg;
}

TEST(SavedVersion, AddInPlaceOnADetachedMatmulOperand) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}).set_requires_grad(true);
  Tensor w = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  Tensor y = ops::sum(ops::matmul(x, w));
  w.detach().add_(Tensor::ones({2, 2}));
  const std::string msg = error_of([&] { grad(y, {x}); });
  EXPECT_NE(msg.find("backward through 'matmul'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape [2,2] f32"), std::string::npos) << msg;
}

TEST(SavedVersion, SavedOutputWrittenByFill) {
  Tensor x = Tensor::from_vector<double>({0.5, 1.0}).set_requires_grad(true);
  Tensor y = ops::exp(x);  // exp's backward reads its output
  y.detach().fill_(0);
  const std::string msg = error_of([&] { grad(ops::sum(y), {x}); });
  EXPECT_NE(msg.find("backward through 'exp'"), std::string::npos) << msg;
}

TEST(SavedVersion, WritesToTensorsNoBackwardReadsAreFine) {
  Tensor a = Tensor::from_vector<double>({1, 2}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({3, 4}).set_requires_grad(true);
  Tensor y = ops::sum(ops::add(a, b));  // add saves nothing
  b.detach().add_(Tensor::ones({2}, DType::f64));
  auto g = grad(y, {a, b});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{1, 1}));
}

TEST(SavedVersion, UpdateAfterGradientThenRecordAgain) {
  Variable w("w", Tensor::from_vector<float>({1, 2, 3}));
  for (int step = 0; step < 3; ++step) {
    GradientTape tape(/*persistent=*/true);
    Tensor y = ops::sum(ops::mul(w.value(), w.value()));
    auto g1 = tape.gradient(y, std::vector<Variable>{w});
    auto g2 = tape.gradient(y, std::vector<Variable>{w});  // persistent: twice before the update
    EXPECT_TRUE(g1[0].equal(g2[0]));
    const auto before = w.value().to_vector<float>();
    for (size_t i = 0; i < before.size(); ++i) EXPECT_FLOAT_EQ(g1[0].to_vector<float>()[i], 2 * before[i]);
    w.assign(ops::sub(w.value().detach(), ops::mul(g1[0], 0.1)));
  }
}

TEST(SavedVersion, PersistentTapeAfterAnUpdateRefuses) {
  Variable w("w", Tensor::from_vector<float>({1, 2, 3}));
  GradientTape tape(/*persistent=*/true);
  Tensor y = ops::sum(ops::square(w.value()));
  tape.gradient(y, std::vector<Variable>{w});
  w.assign(Tensor::from_vector<float>({4, 5, 6}));
  const std::string msg = error_of([&] { tape.gradient(y, std::vector<Variable>{w}); });
  EXPECT_NE(msg.find("backward through 'square'"), std::string::npos) << msg;
}

TEST(SavedVersion, WritesCountOnTheStorageSharedByViews) {
  Tensor t = Tensor::zeros({2, 3});
  const uint64_t v0 = t.version();
  Tensor view = t.view({6});
  view.fill_(1);
  EXPECT_EQ(t.version(), v0 + 1);
  t.detach().copy_(Tensor::ones({2, 3}));
  EXPECT_EQ(view.version(), v0 + 2);
}

}  // namespace
