// keras::CompiledOutputs: what compile() gave each output of a model, resolved against the output names
// as Keras 2.4's LossesContainer and MetricsContainer (keras/engine/compile_utils.py) resolve it.
//
//   CompiledOutputs outs(options, {"class", "brightness"});
//   std::vector<Tensor> per_output;
//   Tensor loss = outs.total_loss(ys, preds, per_output);   // sum of weight * loss, differentiable
//   outs.update(per_output, ys, preds, batch_size);         // per-output loss means and metrics
//   outs.metrics();   // class_loss, brightness_loss, class_accuracy, brightness_mae (Keras's order)
//
// One output (or a model that does not name its outputs) is compiled exactly as before: no per-output
// loss means, metric objects used as given and named as given, the loss not multiplied unless a weight
// was given. Several outputs, as Keras: one loss object shared by every output it is broadcast to; a
// mean "<output>_loss" of each output's unweighted loss (for outputs that have a loss); metrics copied
// for each output (objects through serialize_metric/metric_from_config, so the objects given to compile
// keep their names and state: read results from model.metrics()) and renamed "<output>_<metric>";
// "accuracy" resolved against that output's loss. Keys that name no output and two metrics with one
// name are errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"
#include "keel/keras/training_options.h"

namespace keel::keras {

struct CompiledOutput {
  std::string name;                          // the output layer's name ("" when the model names none)
  std::shared_ptr<Loss> loss;                // null: this output has no loss
  std::optional<double> weight;              // unset: the loss counts once, unscaled
  std::shared_ptr<Mean> loss_tracker;        // "<name>_loss", for models with several outputs
  std::vector<std::shared_ptr<MeanMetricWrapper>> metrics;
};

class CompiledOutputs {
 public:
  CompiledOutputs() = default;
  // `output_names`: the model's, in order; empty for a model that does not name its (one) output.
  CompiledOutputs(const CompileOptions& options, const std::vector<std::string>& output_names);

  size_t size() const { return outputs_.size(); }
  const std::vector<CompiledOutput>& outputs() const { return outputs_; }
  // The loss to differentiate: the sum over outputs with a loss of weight * loss(y_true, y_pred).
  // `per_output` receives each output's unweighted loss (undefined where there is none).
  Tensor total_loss(const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred,
                    std::vector<Tensor>& per_output) const;
  // After a step: each output's loss mean (weighted by the batch size) and its metrics.
  void update(const std::vector<Tensor>& per_output, const std::vector<Tensor>& y_true,
              const std::vector<Tensor>& y_pred, double batch_size);
  // The per-output loss means, then each output's metrics, in output order (Keras's model.metrics
  // after the "loss" mean).
  std::vector<std::shared_ptr<Metric>> metrics() const;

 private:
  std::vector<CompiledOutput> outputs_;
};

}  // namespace keel::keras
