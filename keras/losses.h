// Keras losses: objects that reduce ops/losses.h's per-sample losses like Keras does.
//
//   keras::SparseCategoricalCrossentropy loss(keras::LossOptions().from_logits(true));
//   Tensor l = loss(labels, logits);                   // Keras order: (y_true, y_pred); a scalar
//   auto mse = keras::loss_from_name("mse");           // name() == "mean_squared_error"
//   nlohmann::json cfg = loss.get_config();           // {"reduction": "auto", "name": ..., "from_logits": true, ...}
//   keras::register_loss("MyLoss", [](const nlohmann::json& c) { return MyLoss::from_config(c); });
//
// Reduction "auto" and "sum_over_batch_size" divide the (weighted) sum by the number of per-sample
// losses (0 for an empty batch, like Keras's div_no_nan); "sum" sums; "none" returns the per-sample
// losses. Before computing, shapes are matched like Keras's squeeze_or_expand_dimensions (a trailing
// size-1 axis is squeezed when the ranks differ by one) and y_true is cast to y_pred's dtype (integer
// labels for the sparse loss). The result is differentiable w.r.t. y_pred.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "keel/graph/tensor.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

enum class Reduction { auto_, none, sum, sum_over_batch_size };
const char* reduction_name(Reduction r);  // "auto", "none", "sum", "sum_over_batch_size"
Reduction reduction_from_name(const std::string& name);

struct LossOptions {
  KEEL_TRAIN_ARG(LossOptions, bool, from_logits, false)
  KEEL_TRAIN_ARG(LossOptions, double, label_smoothing, 0.0)  // CategoricalCrossentropy, BinaryCrossentropy
  KEEL_TRAIN_ARG(LossOptions, Reduction, reduction, Reduction::auto_)
  KEEL_TRAIN_ARG(LossOptions, std::string, name, "")         // empty: the class's Keras default name
};

class Loss {
 public:
  virtual ~Loss();
  // Reduced loss (a scalar unless reduction is none). sample_weight: undefined, a scalar, the shape of
  // the per-sample losses, or one weight per sample ([N] or [N, 1]: applied to every loss of that sample,
  // as Keras broadcasts it).
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = Tensor()) const;
  // Per-sample losses, before reduction.
  virtual Tensor call(const Tensor& y_true, const Tensor& y_pred) const = 0;

  virtual std::string class_name() const = 0;
  const std::string& name() const { return name_; }
  Reduction reduction() const { return reduction_; }
  virtual nlohmann::json get_config() const;  // {"reduction": ..., "name": ...} plus the class's own keys

 protected:
  Loss(const LossOptions& options, const char* default_name);
  const LossOptions& options() const { return options_; }

 private:
  LossOptions options_;
  std::string name_;
  Reduction reduction_;
};

class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(const LossOptions& o = LossOptions());
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string class_name() const override { return "SparseCategoricalCrossentropy"; }
  nlohmann::json get_config() const override;  // + from_logits, ignore_class (null)
  bool from_logits() const { return options().from_logits(); }
};

class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(const LossOptions& o = LossOptions());
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string class_name() const override { return "CategoricalCrossentropy"; }
  nlohmann::json get_config() const override;  // + from_logits, label_smoothing, axis
  bool from_logits() const { return options().from_logits(); }
};

class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(const LossOptions& o = LossOptions());
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string class_name() const override { return "BinaryCrossentropy"; }
  nlohmann::json get_config() const override;  // + from_logits, label_smoothing, axis
  bool from_logits() const { return options().from_logits(); }
};

class MeanSquaredError : public Loss {
 public:
  explicit MeanSquaredError(const LossOptions& o = LossOptions());
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string class_name() const override { return "MeanSquaredError"; }
};

class MeanAbsoluteError : public Loss {
 public:
  explicit MeanAbsoluteError(const LossOptions& o = LossOptions());
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string class_name() const override { return "MeanAbsoluteError"; }
};

// Keras names: "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
// "mean_squared_error" ("mse", "MSE"), "mean_absolute_error" ("mae", "MAE"), and the class names.
// Unknown names throw, quoting the name.
std::shared_ptr<Loss> loss_from_name(const std::string& name);
// {"class_name": ..., "config": {...}} or a name string.
std::shared_ptr<Loss> loss_from_config(const nlohmann::json& spec);

// Users' own losses (Keras's custom_objects / register_keras_serializable): `class_name` (the class_name()
// the loss reports) is looked up before the built-in names by loss_from_name (factory given {}) and
// loss_from_config (factory given the config), so a compiled custom loss round-trips through
// save + load_model. Registering a name again replaces it.
using CustomLossFactory = std::function<std::shared_ptr<Loss>(const nlohmann::json& config)>;
void register_loss(const std::string& class_name, CustomLossFactory factory);

}  // namespace keel::keras
