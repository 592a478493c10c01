// fit/evaluate/predict say plainly that models with several outputs (or inputs) are not supported by
// them yet, naming the model and its outputs.
#include <gtest/gtest.h>

#include <functional>

#include "keel/keras/layers/layers.h"
#include "keel/keras/optimizers.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;

namespace {
using keel::test::error_of;
}  // namespace

TEST(MultiOutput, FitEvaluatePredictSayTheyNeedOneOutput) {
  auto in = Input({3});
  auto a = layers::Dense(layers::DenseOptions(2).name("head_a"))(in);
  auto b = layers::Dense(layers::DenseOptions(1).name("head_b"))(in);
  Model m(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{a, b}, "two_heads");
  const Tensor x = Tensor::ones({4, 3}), y = Tensor::ones({4, 2});
  const std::string tail = " has 2 outputs ('head_a', 'head_b'); fit, evaluate, predict, train_on_batch and "
                           "test_on_batch support models with one output only (not yet several)";
  EXPECT_EQ(error_of([&] { m.predict(x); }), "predict: Functional 'two_heads'" + tail);
  m.compile(CompileOptions().optimizer("sgd").loss("mse"));
  EXPECT_EQ(error_of([&] { m.fit(x, y, FitOptions().verbose(0)); }), "fit: Functional 'two_heads'" + tail);
  EXPECT_EQ(error_of([&] { m.evaluate(x, y, EvaluateOptions().verbose(0)); }),
            "evaluate: Functional 'two_heads'" + tail);
  // Calling the model on a list of inputs gives every output.
  EXPECT_EQ(m(std::vector<Tensor>{x}).size(), 2u);
}

TEST(MultiOutput, SeveralInputsAreNamedToo) {
  auto a = Input(InputOptions({3}).name("in_a"));
  auto b = Input(InputOptions({3}).name("in_b"));
  auto out = layers::Add()(std::vector<KerasTensor>{a, b});
  Model m(std::vector<KerasTensor>{a, b}, std::vector<KerasTensor>{out[0]}, "two_inputs");
  EXPECT_EQ(error_of([&] { m.predict(Tensor::ones({2, 3})); }),
            "predict: Functional 'two_inputs' has 2 inputs ('in_a', 'in_b'); fit, evaluate, predict, "
            "train_on_batch and test_on_batch support models with one input only (not yet several)");
}
