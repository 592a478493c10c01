// Keras metrics: stateful means over `total` and `count` f32 Variables (Trackables, so checkpoints
// carry them as `.../total` and `.../count`).
//
//   keras::SparseCategoricalAccuracy acc;               // name "sparse_categorical_accuracy"
//   acc.update_state(labels, probs);                    // (y_true, y_pred[, sample_weight])
//   double a = acc.result();                             // total / count (0 when count is 0)
//   acc.reset_state();
//   keras::Mean loss_tracker("loss");
//   loss_tracker.update_state(batch_loss.item<double>(), /*weight=*/batch_size);   // or (values, sample_weight) tensors
//   auto m = keras::metric_from_name("accuracy", loss.get());   // resolved for the loss, like compile()
//   keras::register_metric("MyMetric", [](const nlohmann::json& c) { return MyMetric::from_config(c); });
//
// The accuracy metrics compute per-sample values with plain loops (no autodiff, no ops) and follow
// Keras's rules: y_true is squeezed/cast as Keras does, argmax takes the first maximum,
// BinaryAccuracy and the regression metrics average over the last axis, Accuracy compares elementwise.
// Sums are formed in double and added to the f32 variables.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/checkpoint/trackable.h"
#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"

namespace keel::keras {

class Loss;

class Metric : public Trackable {
 public:
  ~Metric() override;
  const std::string& name() const { return name_; }
  // compile() prefixes the output's name for a model with several outputs ("class_accuracy"), as Keras
  // renames the metrics it is given.
  void set_name(std::string name) { name_ = std::move(name); }
  virtual std::string class_name() const = 0;
  // total / count in f32, as Keras's div_no_nan (0 when count is 0).
  double result() const;
  void reset_state();
  const Variable& total() const { return total_; }
  const Variable& count() const { return count_; }
  virtual nlohmann::json get_config() const;  // {"name": ..., "dtype": "float32"}

 protected:
  explicit Metric(std::string name);
  // Adds a weighted sum and the sum of weights.
  void accumulate(double weighted_sum, double weight_sum);

 private:
  std::string name_;
  Variable total_;
  Variable count_;
};

// Keras's Mean: the weighted mean of the values it is given.
class Mean : public Metric {
 public:
  explicit Mean(std::string name = "mean");
  std::string class_name() const override { return "Mean"; }
  // values: any shape; sample_weight: undefined, a scalar, or values' shape.
  void update_state(const Tensor& values, const Tensor& sample_weight = Tensor());
  void update_state(double value, double weight = 1.0);
};

// A metric of (y_true, y_pred): per-sample values averaged over everything seen (Keras's
// MeanMetricWrapper). Compiled metrics are of this kind.
class MeanMetricWrapper : public Metric {
 public:
  // sample_weight: undefined, a scalar, one weight per per-sample value, or one per sample (y_true's
  // first axis), applied to each of that sample's values (Keras broadcasts [N, 1] weights so).
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = Tensor());
  // The function Keras's config names ("sparse_categorical_accuracy", ...).
  virtual std::string fn_name() const = 0;
  nlohmann::json get_config() const override;  // + "fn" when class_name() is MeanMetricWrapper

 protected:
  using Metric::Metric;
  // Appends the per-sample values of one batch to `out`.
  virtual void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const = 0;
};

class Accuracy : public MeanMetricWrapper {  // elementwise y_true == y_pred
 public:
  explicit Accuracy(std::string name = "accuracy") : MeanMetricWrapper(std::move(name)) {}
  std::string class_name() const override { return "Accuracy"; }
  std::string fn_name() const override { return "accuracy"; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;
};

class SparseCategoricalAccuracy : public MeanMetricWrapper {  // y_true == argmax(y_pred)
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : MeanMetricWrapper(std::move(name)) {}
  std::string class_name() const override { return "SparseCategoricalAccuracy"; }
  std::string fn_name() const override { return "sparse_categorical_accuracy"; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;
};

class CategoricalAccuracy : public MeanMetricWrapper {  // argmax(y_true) == argmax(y_pred)
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy") : MeanMetricWrapper(std::move(name)) {}
  std::string class_name() const override { return "CategoricalAccuracy"; }
  std::string fn_name() const override { return "categorical_accuracy"; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;
};

class BinaryAccuracy : public MeanMetricWrapper {  // mean over the last axis of (y_pred > threshold) == y_true
 public:
  explicit BinaryAccuracy(std::string name = "binary_accuracy", double threshold = 0.5)
      : MeanMetricWrapper(std::move(name)), threshold_(threshold) {}
  std::string class_name() const override { return "BinaryAccuracy"; }
  std::string fn_name() const override { return "binary_accuracy"; }
  double threshold() const { return threshold_; }
  nlohmann::json get_config() const override;  // + threshold

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;

 private:
  double threshold_;
};

class MeanSquaredErrorMetric : public MeanMetricWrapper {  // Keras's metrics.MeanSquaredError
 public:
  explicit MeanSquaredErrorMetric(std::string name = "mean_squared_error") : MeanMetricWrapper(std::move(name)) {}
  std::string class_name() const override { return "MeanSquaredError"; }
  std::string fn_name() const override { return "mean_squared_error"; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;
};

class MeanAbsoluteErrorMetric : public MeanMetricWrapper {  // Keras's metrics.MeanAbsoluteError
 public:
  explicit MeanAbsoluteErrorMetric(std::string name = "mean_absolute_error") : MeanMetricWrapper(std::move(name)) {}
  std::string class_name() const override { return "MeanAbsoluteError"; }
  std::string fn_name() const override { return "mean_absolute_error"; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override;
};

// A metric by Keras name, as compile() resolves it. "accuracy" / "acc" become the accuracy that fits
// `loss` (sparse categorical for SparseCategoricalCrossentropy, binary for BinaryCrossentropy,
// categorical for CategoricalCrossentropy) and keep the name given; for other or no loss they are
// resolved on the first update from the shapes, by Keras's rule (y_pred's last axis 1: binary; y_true
// of lower rank or last axis 1: sparse categorical; else categorical). Also
// "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "mse"/"mean_squared_error",
// "mae"/"mean_absolute_error" and the class names. Unknown names throw, quoting the name.
std::shared_ptr<MeanMetricWrapper> metric_from_name(const std::string& name, const Loss* loss = nullptr);
// From what a training_config lists: a name (metric_from_name) or {"class_name", "config"} as
// serialize_metric writes it ("MeanMetricWrapper" with "fn", the built-in classes with "name"
// (and BinaryAccuracy's "threshold"), or a registered class). Unknown classes throw, quoting them.
std::shared_ptr<MeanMetricWrapper> metric_from_config(const nlohmann::json& spec, const Loss* loss = nullptr);
// {"class_name": class_name(), "config": get_config()}
nlohmann::json serialize_metric(const Metric& metric);

// Users' own metrics: `class_name` is looked up before the built-in names by metric_from_name (factory
// given {}) and metric_from_config (given the config), so compiled custom metrics round-trip through
// save + load_model. Registering a name again replaces it.
using MetricFactory = std::function<std::shared_ptr<MeanMetricWrapper>(const nlohmann::json& config)>;
void register_metric(const std::string& class_name, MetricFactory factory);

}  // namespace keel::keras
