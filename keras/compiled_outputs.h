// keras::CompiledOutputs: what compile() gave each output of a model, resolved against the output names
// as Keras 2.4's LossesContainer and MetricsContainer (keras/engine/compile_utils.py) resolve it.
//
//   CompiledOutputs outs(options, {"class", "brightness"});
//   std::vector<Tensor> per_output;
//   Tensor loss = outs.total_loss(ys, preds, sws, per_output);  // sum of weight * loss, differentiable
//   outs.update(per_output, ys, preds, sws, batch_size);        // per-output loss means and metrics
//   outs.metrics();   // class_loss, brightness_loss, class_accuracy, brightness_mae (Keras's order)
//
// One output (or a model that does not name its outputs) is compiled exactly as before: no per-output
// loss means, metric objects used as given and named as given, the loss not multiplied unless a weight
// was given. Several outputs, as Keras: one loss object shared by every output it is broadcast to; a
// mean "<output>_loss" of each output's loss before its loss weight (for outputs that have a loss); metrics copied
// for each output (objects through serialize_metric/metric_from_config, so the objects given to compile
// keep their names and state: read results from model.metrics()) and renamed "<output>_<metric>";
// "accuracy" resolved against that output's loss. Keys that name no output and two metrics with one
// name (with one output too, as Keras's _set_metric_names) are errors.
//
// Sample weights (`sws`: one per output, an undefined Tensor for an output without; an empty list for
// none) weight each output's loss (Loss::operator(): the weighted sum over the number of per-sample
// losses) and the weighted metrics; the plain metrics and the loss means ignore them (the means are
// weighted by the batch size), as Keras 2.4. Weighted metrics are built like the plain ones and named
// by Keras's _set_metric_names: a weighted metric whose name a plain metric of its output has is renamed
// "weighted_<name>" (one output: the object given is renamed, as Keras renames it; one object in both
// lists is an error) or "<output>_weighted_<name>". metrics() lists, output by output, the plain
// metrics then the weighted ones (Keras's _create_ordered_metrics).
#pragma once

#include <map>
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
  std::vector<std::shared_ptr<MeanMetricWrapper>> metrics;           // not given the sample weights
  std::vector<std::shared_ptr<MeanMetricWrapper>> weighted_metrics;  // given them
  // Whether training and evaluation read this output's targets (y): it has a loss or a metric. Keras
  // lets the targets of the other outputs be left out.
  bool needs_targets() const { return loss || !metrics.empty() || !weighted_metrics.empty(); }
};

class CompiledOutputs {
 public:
  CompiledOutputs() = default;
  // `output_names`: the model's, in order; empty for a model that does not name its (one) output.
  CompiledOutputs(const CompileOptions& options, const std::vector<std::string>& output_names);

  size_t size() const { return outputs_.size(); }
  const std::vector<CompiledOutput>& outputs() const { return outputs_; }
  // The loss to differentiate: the sum over outputs with a loss of weight * loss(y_true, y_pred, sw).
  // `per_output` receives each output's loss before its loss weight (undefined where there is none).
  // `masks`: the outputs' masks (empty, or undefined entries: none), which weight the losses and all
  // metrics as Keras's compile_utils apply_mask does.
  Tensor total_loss(const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred,
                    const std::vector<Tensor>& sample_weight, std::vector<Tensor>& per_output,
                    const std::vector<Tensor>& masks = {}) const;
  // After a step: each output's loss mean (weighted by the batch size), its metrics, and its weighted
  // metrics with its sample weights.
  void update(const std::vector<Tensor>& per_output, const std::vector<Tensor>& y_true,
              const std::vector<Tensor>& y_pred, const std::vector<Tensor>& sample_weight, double batch_size,
              const std::vector<Tensor>& masks = {});
  // The per-output loss means, then each output's metrics and weighted metrics, in output order
  // (Keras's model.metrics after the "loss" mean).
  std::vector<std::shared_ptr<Metric>> metrics() const;

 private:
  void add_metrics(const std::vector<MetricSpec>& list,
                   const std::optional<std::map<std::string, std::vector<MetricSpec>>>& by_output, const char* setter,
                   const std::vector<std::string>& names,
                   std::vector<std::shared_ptr<MeanMetricWrapper>> CompiledOutput::*member);
  void name_metrics();

  std::vector<CompiledOutput> outputs_;
};

}  // namespace keel::keras
