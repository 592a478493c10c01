// Stateful Keras metrics: values, weights, reset, names resolved like compile(), configs.
#include <gtest/gtest.h>

#include "keel/keras/losses.h"
#include "keel/keras/metrics.h"

using namespace keel;
using namespace keel::keras;

namespace {
// Rows' argmax: 1, 0, 2, 1 (row 3 has a tie between 1 and 2: the first maximum wins, as tf.argmax).
Tensor probs() {
  return Tensor::from_vector<float>({0.1f, 0.8f, 0.1f, 0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f, 0.1f, 0.45f, 0.45f}, {4, 3});
}
}  // namespace

TEST(Metrics, MeanIsWeightedAndResettable) {
  Mean m("loss");
  EXPECT_EQ(m.result(), 0.0);  // div_no_nan
  m.update_state(2.0, 32);
  m.update_state(4.0, 16);
  EXPECT_FLOAT_EQ(static_cast<float>(m.result()), (2.0f * 32 + 4.0f * 16) / 48);
  EXPECT_FLOAT_EQ(m.total().value().item<float>(), 128.0f);
  EXPECT_FLOAT_EQ(m.count().value().item<float>(), 48.0f);
  m.reset_state();
  EXPECT_EQ(m.count().value().item<float>(), 0.0f);
  m.update_state(Tensor::from_vector<double>({1, 2, 3}), Tensor::from_vector<double>({1, 0, 1}));
  EXPECT_DOUBLE_EQ(m.result(), 2.0);
  EXPECT_THROW(m.update_state(Tensor::from_vector<double>({1, 2}), Tensor::from_vector<double>({1, 0, 1})), Error);
  std::vector<std::string> children;
  for (const auto& c : m.trackable_children()) children.push_back(c.name);
  EXPECT_EQ(children, (std::vector<std::string>{"total", "count"}));
  EXPECT_EQ(m.total().dtype(), DType::f32);
}

TEST(Metrics, SparseCategoricalAccuracyAcrossBatches) {
  SparseCategoricalAccuracy acc;
  acc.update_state(Tensor::from_vector<int64_t>({1, 0, 1, 1}), probs());  // 1,1,0,1 -> 3/4
  EXPECT_DOUBLE_EQ(acc.result(), 0.75);
  // [N,1] float labels, like Keras accepts; second batch 1 of 2.
  acc.update_state(Tensor::from_vector<float>({2, 2}, {2, 1}),
                   Tensor::from_vector<float>({0.1f, 0.1f, 0.8f, 0.9f, 0.05f, 0.05f}, {2, 3}));
  EXPECT_DOUBLE_EQ(acc.result(), static_cast<double>(4.0f / 6.0f));  // f32 total / count
  acc.reset_state();
  acc.update_state(Tensor::from_vector<int32_t>({1, 0, 1, 1}), probs(), Tensor::from_vector<float>({0, 1, 1, 0}));
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);
  try {
    acc.update_state(Tensor::from_vector<int32_t>({1, 0, 1}), probs());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sparse_categorical_accuracy: expected one label per row of y_pred, got y_true [3], y_pred [4,3]");
  }
}

TEST(Metrics, CategoricalBinaryAndElementwiseAccuracy) {
  CategoricalAccuracy cat;
  cat.update_state(Tensor::from_vector<float>({0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0}, {4, 3}), probs());  // 1,0,1,1
  EXPECT_DOUBLE_EQ(cat.result(), 0.75);

  BinaryAccuracy bin;  // threshold 0.5; [N,2]: mean over the last axis per sample
  bin.update_state(Tensor::from_vector<float>({1, 0, 0, 0}, {2, 2}), Tensor::from_vector<float>({0.7f, 0.6f, 0.2f, 0.5f}, {2, 2}));
  EXPECT_DOUBLE_EQ(bin.result(), 0.75);  // sample 0: 1/2, sample 1: 2/2 (0.5 is not > 0.5)
  BinaryAccuracy strict("strict", 0.8);
  strict.update_state(Tensor::from_vector<float>({1, 1}, {2, 1}), Tensor::from_vector<float>({0.7f, 0.9f}, {2, 1}));
  EXPECT_DOUBLE_EQ(strict.result(), 0.5);
  EXPECT_EQ(strict.get_config(), nlohmann::json::parse(R"({"name": "strict", "dtype": "float32", "threshold": 0.8})"));

  Accuracy eq;
  eq.update_state(Tensor::from_vector<int64_t>({1, 2, 3, 4}, {2, 2}), Tensor::from_vector<int64_t>({1, 0, 3, 4}, {2, 2}));
  EXPECT_DOUBLE_EQ(eq.result(), 0.75);
  EXPECT_EQ(eq.count().value().item<float>(), 4.0f);
}

TEST(Metrics, RegressionMetrics) {
  MeanSquaredErrorMetric mse;
  mse.update_state(Tensor::from_vector<float>({1, 0, 5, 4}, {2, 2}), Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  EXPECT_DOUBLE_EQ(mse.result(), 2.0);
  MeanAbsoluteErrorMetric mae;
  mae.update_state(Tensor::from_vector<float>({1, 0, 5, 4}, {2, 2}), Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
  EXPECT_DOUBLE_EQ(mae.result(), 1.0);
}

TEST(Metrics, AccuracyResolvedForTheLoss) {
  SparseCategoricalCrossentropy sce;
  CategoricalCrossentropy cce;
  BinaryCrossentropy bce;
  auto a = metric_from_name("accuracy", &sce);
  EXPECT_EQ(a->name(), "accuracy");
  EXPECT_EQ(a->fn_name(), "sparse_categorical_accuracy");
  // Keras's training_config entry for compile(metrics=["accuracy"]).
  EXPECT_EQ(a->get_config(),
            nlohmann::json::parse(R"({"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"})"));
  EXPECT_EQ(a->class_name(), "MeanMetricWrapper");
  EXPECT_EQ(metric_from_name("acc", &cce)->fn_name(), "categorical_accuracy");
  EXPECT_EQ(metric_from_name("acc", &cce)->name(), "acc");
  EXPECT_EQ(metric_from_name("accuracy", &bce)->fn_name(), "binary_accuracy");

  // No deciding loss: Keras's shape rule on the first update.
  MeanSquaredError mse;
  auto by_shape = metric_from_name("accuracy", &mse);
  by_shape->update_state(Tensor::from_vector<float>({1, 0}, {2, 1}), Tensor::from_vector<float>({0.9f, 0.7f}, {2, 1}));
  EXPECT_EQ(by_shape->fn_name(), "binary_accuracy");
  EXPECT_DOUBLE_EQ(by_shape->result(), 0.5);
  auto sparse_by_shape = metric_from_name("accuracy");
  sparse_by_shape->update_state(Tensor::from_vector<int64_t>({1, 0, 0, 1}), probs());
  EXPECT_EQ(sparse_by_shape->fn_name(), "sparse_categorical_accuracy");
  EXPECT_DOUBLE_EQ(sparse_by_shape->result(), 0.75);

  EXPECT_EQ(metric_from_name("SparseCategoricalAccuracy")->name(), "sparse_categorical_accuracy");
  EXPECT_EQ(metric_from_name("SparseCategoricalAccuracy")->get_config(),
            nlohmann::json::parse(R"({"name": "sparse_categorical_accuracy", "dtype": "float32"})"));
  EXPECT_EQ(metric_from_name("mse")->fn_name(), "mean_squared_error");
  try {
    metric_from_name("f1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("metric 'f1' is not known", 0), 0u);
  }
}
