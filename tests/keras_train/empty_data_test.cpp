// fit/evaluate/predict/train_on_batch/test_on_batch refuse 0 samples with a clear error, as tf.keras
// raises (evaluate returned empty logs silently before).
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

TEST(EmptyData, EvaluatePredictFitAndBatchesRaise) {
  Sequential m({layers::Dense(layers::DenseOptions(2).input_shape({3}))});
  m.compile(CompileOptions().optimizer("sgd").loss("mse"));
  const Tensor x = Tensor::zeros({0, 3}), y = Tensor::zeros({0, 2});
  EXPECT_EQ(error_of([&] { m.evaluate(x, y, EvaluateOptions().verbose(0)); }),
            "evaluate: x [0,3] has no samples; expected a non-empty array");
  EXPECT_EQ(error_of([&] { m.predict(x); }), "predict: x [0,3] has no samples; expected a non-empty array");
  EXPECT_EQ(error_of([&] { m.fit(x, y, FitOptions().verbose(0)); }),
            "fit: x [0,3] has no samples; expected a non-empty array");
  EXPECT_EQ(error_of([&] { m.train_on_batch(x, y); }),
            "train_on_batch: x [0,3] has no samples; expected a non-empty array");
  EXPECT_EQ(error_of([&] { m.test_on_batch(x, y); }),
            "test_on_batch: x [0,3] has no samples; expected a non-empty array");
  const Tensor x1 = Tensor::zeros({4, 3}), y1 = Tensor::zeros({4, 2});
  EXPECT_EQ(error_of([&] { m.fit(x1, y1, FitOptions().verbose(0).validation_data(x, y)); }),
            "fit: validation_data: x [0,3] has no samples; expected a non-empty array");
}
