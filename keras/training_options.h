// Options of compile(), fit(), evaluate() and predict(), with chainable setters.
//
//   model.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                     .metrics({"accuracy"}));
//   model.compile(keras::CompileOptions()
//                     .optimizer(std::make_shared<keras::SGD>(keras::SGDOptions().momentum(0.9)))
//                     .loss(std::make_shared<keras::SparseCategoricalCrossentropy>(
//                         keras::LossOptions().from_logits(true)))
//                     .metric(std::make_shared<keras::SparseCategoricalAccuracy>()));
//   auto history = model.fit(x, y, keras::FitOptions().batch_size(64).epochs(5).validation_split(0.1)
//                                      .callback(std::make_shared<keras::EarlyStopping>()));
//
// Names are checked when given (optimizer_from_name, loss_from_name), so that a typo fails there. An
// optimizer given by name is created afresh by build_optimizer() for every compile, as Keras's
// compile("adam") does: two models compiled from one CompileOptions never share its iterations or slots
// (an optimizer given as an object is that object, shared if you share it). Metric names are resolved
// at compile against each output's loss (keras/compiled_outputs.h), as Keras's compile() does
// ("accuracy" -> the accuracy that fits the loss). The loss name is kept for Keras's training_config.
//
// Models with several outputs (Keras 2.4's compile): loss() applies one loss to every output; losses()
// gives one per output in model.outputs() order, losses_by_output() keys them by output layer name (an
// output left out has no loss); loss_weights() / loss_weights_by_output() scale them (the total loss is
// the sum of weight * loss; an output without a weight counts once). metrics() applies its list to every
// output (a metric object is copied for each); metrics_by_output() gives each named output its own list.
// keel::keras::CompiledOutputs (keras/compiled_outputs.h) resolves all this against the output names.
//
//   model.compile(keras::CompileOptions().optimizer("adam")
//                     .losses_by_output({{"class", "sparse_categorical_crossentropy"}, {"brightness", "mse"}})
//                     .loss_weights({1.0, 0.5})
//                     .metrics_by_output({{"class", {"accuracy"}}, {"brightness", {"mae"}}}));
//
// The *_by_output setters have their own names because a map and a list of two strings would make
// {"a", "b"} ambiguous.
//
// Per-sample weights (Keras 2.4): FitOptions::sample_weight gives one weight per sample ([N] or [N, 1]),
// or for a sequence output one per step ([N, T]: Keras's temporal weights, e.g. a padding mask),
// for every output, or a list / Arrays::by_name map with one per output (an output without one is
// unweighted); fit shuffles, splits (validation_split) and batches it with x and y. class_weight
// ({class: weight}, keys exactly 0..K-1) turns the training labels into per-sample weights (multiplied
// with sample_weight when both are given), for a model with one output; validation data are not
// class-weighted, as Keras.
// validation_data(x, y, sample_weight) and EvaluateOptions::sample_weight weight evaluation. The loss of
// each output is weighted (sum of w * loss over the number of per-sample losses); metrics() ignore the
// weights, weighted_metrics() / weighted_metrics_by_output() receive them, as Keras 2.4's compile. A
// weighted metric whose name a plain one already has becomes "weighted_<name>" ("<output>_weighted_<name>"
// with several outputs), as Keras's _set_metric_names.
//
//   model.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                     .metrics({"accuracy"}).weighted_metrics({"accuracy"}));   // accuracy, weighted_accuracy
//   model.fit(x, y, keras::FitOptions().class_weight({{0, 1.0}, {1, 5.0}}).sample_weight(w));
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "keel/graph/tensor.h"
#include "keel/keras/arrays.h"
#include "keel/keras/callbacks/callback.h"
#include "keel/keras/losses.h"
#include "keel/keras/metrics.h"
#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/progbar.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

// A compiled metric, by Keras name or as an object.
struct MetricSpec {
  MetricSpec(const char* name) : name(name) {}  // NOLINT: implicit, so that {"accuracy"} works
  MetricSpec(std::string name) : name(std::move(name)) {}  // NOLINT
  template <class M, class = std::enable_if_t<std::is_base_of_v<MeanMetricWrapper, M>>>
  MetricSpec(std::shared_ptr<M> object) : object(std::move(object)) {}  // NOLINT
  std::string name;
  std::shared_ptr<MeanMetricWrapper> object;
};

// A compiled loss, by Keras name (resolved at once, so that an unknown name fails in compile) or as an
// object.
struct LossSpec {
  LossSpec(const char* name);                    // NOLINT: implicit, so that {"mse", "mae"} works
  LossSpec(const std::string& name);             // NOLINT
  template <class L, class = std::enable_if_t<std::is_base_of_v<Loss, L>>>
  LossSpec(std::shared_ptr<L> loss) : object(std::move(loss)) {  // NOLINT
    check();
  }
  std::shared_ptr<Loss> object;
  std::optional<std::string> name;  // the name it was given by (training_config keeps it)

 private:
  void check() const;
};

class CompileOptions {
 public:
  CompileOptions& optimizer(const std::string& name);
  CompileOptions& optimizer(std::shared_ptr<Optimizer> optimizer);
  CompileOptions& loss(const std::string& name);
  CompileOptions& loss(std::shared_ptr<Loss> loss);
  CompileOptions& metrics(std::vector<MetricSpec> metrics);
  CompileOptions& metric(MetricSpec metric);
  // Several outputs (see the header comment). Each replaces what an earlier loss/losses call set.
  CompileOptions& losses(std::vector<LossSpec> per_output);
  CompileOptions& losses_by_output(std::map<std::string, LossSpec> by_output_name);
  CompileOptions& loss_weights(std::vector<double> per_output);
  CompileOptions& loss_weights_by_output(std::map<std::string, double> by_output_name);
  CompileOptions& metrics_by_output(std::map<std::string, std::vector<MetricSpec>> by_output_name);
  // Metrics that receive the sample weights (Keras's weighted_metrics): a list for every output, or one
  // list per named output. Independent of metrics(): a model may have both.
  CompileOptions& weighted_metrics(std::vector<MetricSpec> metrics);
  CompileOptions& weighted_metrics_by_output(std::map<std::string, std::vector<MetricSpec>> by_output_name);

  // The optimizer object given by optimizer(object); null when it was given by name.
  const std::shared_ptr<Optimizer>& optimizer() const { return optimizer_; }
  // The name it was given by, if it was.
  const std::optional<std::string>& optimizer_name() const { return optimizer_name_; }
  bool has_optimizer() const { return optimizer_ || optimizer_name_; }
  // The optimizer a compile uses: the given object, or a new optimizer of the given name.
  std::shared_ptr<Optimizer> build_optimizer() const;
  // The one loss for every output (null when losses() or losses_by_output() gave them per output).
  const std::shared_ptr<Loss>& loss() const { return loss_; }
  // The name the loss was given by, if any (Keras keeps it in training_config).
  const std::optional<std::string>& loss_name() const { return loss_name_; }
  const std::optional<std::vector<LossSpec>>& losses() const { return loss_list_; }
  const std::optional<std::map<std::string, LossSpec>>& losses_by_output() const { return loss_map_; }
  const std::optional<std::vector<double>>& loss_weights() const { return weight_list_; }
  const std::optional<std::map<std::string, double>>& loss_weights_by_output() const { return weight_map_; }
  bool has_loss() const { return loss_ || loss_list_ || loss_map_; }
  const std::vector<MetricSpec>& metrics() const { return metrics_; }
  const std::optional<std::map<std::string, std::vector<MetricSpec>>>& metrics_by_output() const {
    return metric_map_;
  }
  const std::vector<MetricSpec>& weighted_metrics() const { return weighted_metrics_; }
  const std::optional<std::map<std::string, std::vector<MetricSpec>>>& weighted_metrics_by_output() const {
    return weighted_metric_map_;
  }
  bool has_weighted_metrics() const { return !weighted_metrics_.empty() || weighted_metric_map_; }

 private:
  std::shared_ptr<Optimizer> optimizer_;
  std::optional<std::string> optimizer_name_;
  std::shared_ptr<Loss> loss_;
  std::optional<std::string> loss_name_;
  std::optional<std::vector<LossSpec>> loss_list_;
  std::optional<std::map<std::string, LossSpec>> loss_map_;
  std::optional<std::vector<double>> weight_list_;
  std::optional<std::map<std::string, double>> weight_map_;
  std::vector<MetricSpec> metrics_;
  std::optional<std::map<std::string, std::vector<MetricSpec>>> metric_map_;
  std::vector<MetricSpec> weighted_metrics_;
  std::optional<std::map<std::string, std::vector<MetricSpec>>> weighted_metric_map_;
};

// Keras's class_weight: {class index: weight}, the keys exactly 0..K-1.
using ClassWeight = std::map<int64_t, double>;

struct FitOptions {
  KEEL_TRAIN_ARG(FitOptions, int64_t, batch_size, 32)
  KEEL_TRAIN_ARG(FitOptions, int, epochs, 1)
  KEEL_TRAIN_ARG(FitOptions, int, verbose, 1)  // 0 silent, 1 progress bar, 2 one line per epoch
  KEEL_TRAIN_ARG(FitOptions, std::vector<std::shared_ptr<Callback>>, callbacks, {})
  KEEL_TRAIN_ARG(FitOptions, double, validation_split, 0.0)  // the last fraction of the samples, as Keras
  KEEL_TRAIN_ARG(FitOptions, int, validation_freq, 1)          // validate after epochs N, 2N, ... (1-based)
  KEEL_TRAIN_ARG(FitOptions, int64_t, validation_batch_size, 0)  // 0: batch_size
  KEEL_TRAIN_ARG(FitOptions, int64_t, validation_steps, 0)       // 0: every batch of the validation data
  KEEL_TRAIN_ARG(FitOptions, bool, shuffle, true)
  KEEL_TRAIN_ARG(FitOptions, int, initial_epoch, 0)
  KEEL_TRAIN_ARG(FitOptions, int64_t, steps_per_epoch, 0)  // 0: one pass; else the next N batches of the data's stream, as Keras
  KEEL_TRAIN_ARG(FitOptions, std::optional<uint64_t>, seed, std::nullopt)  // shuffling generator's seed
  KEEL_TRAIN_ARG(FitOptions, ProgbarOptions, progbar, ProgbarOptions())    // where and how to draw
  // One weight per sample ([N] or [N, 1]): one array for every output, or a list / by_name map, one per
  // output.
  KEEL_TRAIN_ARG(FitOptions, Arrays, sample_weight, Arrays())
  KEEL_TRAIN_ARG(FitOptions, ClassWeight, class_weight, ClassWeight())  // training data only
 public:
  FitOptions& callback(std::shared_ptr<Callback> cb) {
    callbacks_.push_back(std::move(cb));
    return *this;
  }
  FitOptions& validation_data(Tensor x, Tensor y) {
    validation_arrays_ = std::make_pair(Arrays(x), Arrays(y));
    validation_data_ = std::make_pair(std::move(x), std::move(y));
    validation_sample_weight_ = Arrays();
    return *this;
  }
  // Several inputs or outputs: lists in model order, or Arrays::by_name (keras/arrays.h).
  FitOptions& validation_data(Arrays x, Arrays y) {
    validation_data_.reset();
    validation_arrays_ = std::make_pair(std::move(x), std::move(y));
    validation_sample_weight_ = Arrays();
    return *this;
  }
  // Keras's (x_val, y_val, val_sample_weight): the weights as sample_weight takes them.
  FitOptions& validation_data(Tensor x, Tensor y, Tensor sample_weight) {
    validation_data(std::move(x), std::move(y));
    validation_sample_weight_ = Arrays(std::move(sample_weight));
    return *this;
  }
  FitOptions& validation_data(Arrays x, Arrays y, Arrays sample_weight) {
    validation_data(std::move(x), std::move(y));
    validation_sample_weight_ = std::move(sample_weight);
    return *this;
  }
  // The pair given as two tensors (unset when validation_data was given as Arrays).
  const std::optional<std::pair<Tensor, Tensor>>& validation_data() const { return validation_data_; }
  // Whatever validation_data was given, as Arrays (what fit reads).
  const std::optional<std::pair<Arrays, Arrays>>& validation_arrays() const { return validation_arrays_; }
  // The third element of validation_data (no arrays when it was given as a pair).
  const Arrays& validation_sample_weight() const { return validation_sample_weight_; }

 private:
  std::optional<std::pair<Tensor, Tensor>> validation_data_;
  std::optional<std::pair<Arrays, Arrays>> validation_arrays_;
  Arrays validation_sample_weight_;
};

struct EvaluateOptions {
  KEEL_TRAIN_ARG(EvaluateOptions, int64_t, batch_size, 32)
  KEEL_TRAIN_ARG(EvaluateOptions, int, verbose, 1)
  KEEL_TRAIN_ARG(EvaluateOptions, int64_t, steps, 0)  // 0: every batch
  KEEL_TRAIN_ARG(EvaluateOptions, std::vector<std::shared_ptr<Callback>>, callbacks, {})
  KEEL_TRAIN_ARG(EvaluateOptions, ProgbarOptions, progbar, ProgbarOptions())
  KEEL_TRAIN_ARG(EvaluateOptions, Arrays, sample_weight, Arrays())  // as FitOptions::sample_weight
 public:
  EvaluateOptions& callback(std::shared_ptr<Callback> cb) {
    callbacks_.push_back(std::move(cb));
    return *this;
  }
};

struct PredictOptions {
  KEEL_TRAIN_ARG(PredictOptions, int64_t, batch_size, 32)
  KEEL_TRAIN_ARG(PredictOptions, int, verbose, 1)  // Keras 2.11-2.15: "auto", which is 1
  KEEL_TRAIN_ARG(PredictOptions, int64_t, steps, 0)  // 0: every batch
  KEEL_TRAIN_ARG(PredictOptions, std::vector<std::shared_ptr<Callback>>, callbacks, {})
  KEEL_TRAIN_ARG(PredictOptions, ProgbarOptions, progbar, ProgbarOptions())
 public:
  PredictOptions& callback(std::shared_ptr<Callback> cb) {
    callbacks_.push_back(std::move(cb));
    return *this;
  }
};

}  // namespace keel::keras
