// keras::Trainer: compile, the train and test steps, train_on_batch/test_on_batch and predict (fit and
// evaluate are trainer_fit.cpp).
#include "keel/keras/trainer.h"

#include <algorithm>
#include <cstring>

#include "keel/autodiff/backward.h"
#include "keel/graph/error.h"
#include "keel/graph/node.h"
#include "keel/keras/callbacks/progbar_logger.h"
#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/sample_weights.h"

namespace keel::keras {

namespace {

void check_xy(const Tensor& x, const Tensor& y, const std::string& what) {
  KEEL_CHECK(x.defined() && y.defined(), what, ": x and y must be defined");
  KEEL_CHECK(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), what, ": x ", shape_str(x.shape()), " and y ",
             shape_str(y.shape()), " must have the same number of samples (first axis)");
  KEEL_CHECK(x.size(0) > 0, what, ": x ", shape_str(x.shape()), " has no samples; expected a non-empty array");
}

// "input 'image'", or `unnamed` ("x") for a model that names none.
std::string label_of(const std::vector<std::string>& names, size_t i, const char* role, const char* unnamed) {
  return names.empty() ? std::string(unnamed) : std::string(role) + " '" + names[i] + "'";
}

// Appends one predicted batch to `out` (allocated for every sample at the first batch).
void append_batch(Tensor& out, int64_t& rows, const Tensor& yb, int64_t batch_rows, int64_t total_rows,
                  int64_t step, const std::string& label) {
  KEEL_CHECK(yb.dim() >= 1 && yb.size(0) == batch_rows, "predict: the model returned ", shape_str(yb.shape()), label,
             " for a batch of ", batch_rows);
  if (!out.defined()) {
    Shape s = yb.shape();
    s[0] = total_rows;
    out = Tensor::empty(s, yb.dtype());
  }
  KEEL_CHECK(yb.dtype() == out.dtype() && Shape(yb.shape().begin() + 1, yb.shape().end()) ==
                                              Shape(out.shape().begin() + 1, out.shape().end()),
             "predict: batch ", step, " gave ", shape_str(yb.shape()), label, ", earlier batches ",
             shape_str(out.shape()));
  const size_t bytes = static_cast<size_t>(yb.numel()) * dtype_size(yb.dtype());
  if (bytes > 0)
    std::memcpy(static_cast<char*>(out.raw_data()) + static_cast<size_t>(rows) * (bytes / static_cast<size_t>(yb.size(0))),
                yb.raw_data(), bytes);
  rows += yb.size(0);
}

}  // namespace

Trainer::Trainer(TrainableModel model) : model_(std::move(model)) {
  KEEL_CHECK(model_.forward && model_.trainable_variables, "Trainer: the model needs a forward function and its "
             "trainable variables");
  if (!model_.weights) model_.weights = model_.trainable_variables;
}

void Trainer::rebind(TrainableModel model) {
  KEEL_CHECK(model.forward && model.trainable_variables, "Trainer: the model needs a forward function and its "
             "trainable variables");
  if (!model.weights) model.weights = model.trainable_variables;
  model_ = std::move(model);
}

void Trainer::compile(const CompileOptions& options) {
  KEEL_CHECK(options.has_optimizer(), "compile: no optimizer given");
  KEEL_CHECK(options.has_loss(), "compile: no loss given");
  CompiledOutputs outputs(options, model_.output_names);  // throws before anything changes
  std::shared_ptr<Optimizer> optimizer = options.build_optimizer();
  compile_options_ = options;
  optimizer_ = std::move(optimizer);
  outputs_ = std::move(outputs);
  loss_tracker_ = std::make_shared<Mean>("loss");
}

void Trainer::check_compiled(const char* what) const {
  KEEL_CHECK(compiled(), what, ": you must compile the model before training/testing (call compile first)");
}

std::vector<std::shared_ptr<Metric>> Trainer::metrics() const {
  std::vector<std::shared_ptr<Metric>> out;
  if (loss_tracker_) out.push_back(loss_tracker_);
  for (const auto& m : outputs_.metrics()) out.push_back(m);
  return out;
}

std::vector<std::string> Trainer::metrics_names() const {
  std::vector<std::string> out;
  for (const auto& m : metrics()) out.push_back(m->name());
  return out;
}

void Trainer::reset_metrics() {
  for (const auto& m : metrics()) m->reset_state();
}

Logs Trainer::current_logs() const {
  Logs logs;
  for (const auto& m : metrics()) logs.set(m->name(), m->result());
  return logs;
}

std::vector<Tensor> Trainer::resolve_x(const Arrays& x, const std::string& what) const {
  std::vector<Tensor> xs = x.in_order(model_.input_names, what, "x", "input");
  if (xs.size() == 1) return xs;
  std::vector<LabelledArray> labelled;
  for (size_t i = 0; i < xs.size(); ++i) labelled.push_back({label_of(model_.input_names, i, "input", "x"), xs[i]});
  check_same_samples(labelled, what);
  return xs;
}

Trainer::Data Trainer::resolve(const Arrays& x, const Arrays& y, const std::string& what,
                               const Arrays& sample_weight) const {
  // Outputs whose targets nothing reads (no loss, no metric) may be left out of y given by name.
  std::vector<bool> optional(model_.output_names.size(), false);
  if (outputs_.size() == optional.size())
    for (size_t i = 0; i < optional.size(); ++i) optional[i] = !outputs_.outputs()[i].needs_targets();
  Data d{x.in_order(model_.input_names, what, "x", "input"),
         y.in_order(model_.output_names, what, "y", "output", optional), {}};
  if (d.x.size() == 1 && d.y.size() == 1) {
    check_xy(d.x[0], d.y[0], what);  // one input and one output: the messages as before
    d.sample_weight = detail::resolve_sample_weights(sample_weight, model_.output_names, d.y, what);
    return d;
  }
  std::vector<LabelledArray> labelled;
  for (size_t i = 0; i < d.x.size(); ++i) labelled.push_back({label_of(model_.input_names, i, "input", "x"), d.x[i]});
  for (size_t i = 0; i < d.y.size(); ++i)
    if (d.y[i].defined() || i >= optional.size() || !optional[i])
      labelled.push_back({label_of(model_.output_names, i, "output", "y"), d.y[i]});
  check_same_samples(labelled, what);
  KEEL_CHECK(d.samples() > 0, what, ": ", labelled[0].label, " ", shape_str(d.x[0].shape()),
             " has no samples; expected non-empty arrays");
  d.sample_weight = detail::resolve_sample_weights(sample_weight, model_.output_names, d.y, what);
  return d;
}

void Trainer::apply_class_weight(Data& d, const ClassWeight& class_weight, const std::string& what) const {
  if (class_weight.empty()) return;
  detail::check_class_weight(class_weight, model_.output_names, what);
  if (d.sample_weight.empty()) d.sample_weight.resize(1);
  d.sample_weight[0] = detail::class_weight_to_sample_weight(class_weight, d.y.at(0), d.sample_weight[0], what);
}

std::vector<Tensor> Trainer::forward(const std::vector<Tensor>& xs, bool training) {
  if (!multi_io()) return {model_.forward(xs.at(0), training)};
  KEEL_CHECK(model_.forward_multi != nullptr, "Trainer: a model with inputs ", quoted_names(model_.input_names),
             " and outputs ", quoted_names(model_.output_names), " needs forward_multi");
  std::vector<Tensor> ys = model_.forward_multi(xs, training);
  KEEL_CHECK(ys.size() == std::max<size_t>(model_.output_names.size(), 1), "Trainer: the model returned ",
             ys.size(), " outputs, expected ", model_.output_names.size(), " (", quoted_names(model_.output_names),
             ")");
  return ys;
}

Logs Trainer::train_step(const Data& batch) {
  std::vector<Tensor> y_pred, per_output;
  Tensor loss;
  {
    EnableGradGuard grad_mode;
    y_pred = forward(batch.x, /*training=*/true);
    loss = outputs_.total_loss(batch.y, y_pred, batch.sample_weight, per_output, output_masks());
  }
  // After the forward pass, as Keras reads them inside the tape: a model built by its first call
  // (a Sequential without input_shape) has no variables before it.
  const std::vector<Variable> vars = model_.trainable_variables();
  if (outputs_.size() > 1) {
    for (size_t i = 0; i < per_output.size(); ++i)
      KEEL_CHECK(!per_output[i].defined() || per_output[i].numel() == 1, "fit: the loss of output '",
                 outputs_.outputs()[i].name, "' must reduce to a scalar, got ", shape_str(per_output[i].shape()));
  }
  KEEL_CHECK(loss.numel() == 1, "fit: the loss must reduce to a scalar, got ", shape_str(loss.shape()));
  std::vector<Tensor> sources;
  sources.reserve(vars.size());
  for (const auto& v : vars) sources.push_back(v.value());
  std::vector<Tensor> grads;
  if (loss.requires_grad()) grads = keel::grad(loss, sources);
  else grads.resize(vars.size());
  optimizer_->apply_gradients(grads, vars);
  NoGradGuard no_grad;
  // The loss means are weighted by the batch size, with or without sample weights, as Keras 2.4.
  const auto rows = static_cast<double>(batch.samples());
  loss_tracker_->update_state(loss.item<double>(), rows);
  for (auto& p : y_pred) p = p.detach();
  outputs_.update(per_output, batch.y, y_pred, batch.sample_weight, rows, output_masks());
  return current_logs();
}

std::vector<Tensor> Trainer::output_masks() const {
  return model_.output_masks ? model_.output_masks() : std::vector<Tensor>{};
}

Logs Trainer::test_step(const Data& batch) {
  NoGradGuard no_grad;
  const std::vector<Tensor> y_pred = forward(batch.x, /*training=*/false);
  std::vector<Tensor> per_output;
  const std::vector<Tensor> masks = output_masks();
  const Tensor loss = outputs_.total_loss(batch.y, y_pred, batch.sample_weight, per_output, masks);
  const auto rows = static_cast<double>(batch.samples());
  loss_tracker_->update_state(loss.item<double>(), rows);
  outputs_.update(per_output, batch.y, y_pred, batch.sample_weight, rows, masks);
  return current_logs();
}

Logs Trainer::train_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight,
                             const ClassWeight& class_weight) {
  check_compiled("train_on_batch");
  Data d = resolve(x, y, "train_on_batch", sample_weight);
  apply_class_weight(d, class_weight, "train_on_batch");
  reset_metrics();
  return train_step(d);
}

Logs Trainer::test_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight) {
  check_compiled("test_on_batch");
  const Data d = resolve(x, y, "test_on_batch", sample_weight);
  reset_metrics();
  return test_step(d);
}

Tensor Trainer::predict(const Arrays& x, const PredictOptions& options) {
  KEEL_CHECK(model_.output_names.size() <= 1, "predict: the model has ", model_.output_names.size(), " outputs (",
             quoted_names(model_.output_names), "); predict_multi returns one array for each");
  return predict_multi(x, options).at(0);
}

std::vector<Tensor> Trainer::predict_multi(const Arrays& x, const PredictOptions& options) {
  const std::vector<Tensor> xs = resolve_x(x, "predict");
  if (xs.size() == 1) {  // the messages as before
    KEEL_CHECK(xs[0].defined() && xs[0].dim() >= 1, "predict: x needs a batch axis");
    KEEL_CHECK(xs[0].size(0) > 0, "predict: x ", shape_str(xs[0].shape()),
               " has no samples; expected a non-empty array");
  } else {
    KEEL_CHECK(xs[0].size(0) > 0, "predict: ", label_of(model_.input_names, 0, "input", "x"), " ",
               shape_str(xs[0].shape()), " has no samples; expected non-empty arrays");
  }
  KEEL_CHECK(options.batch_size() > 0, "predict: batch_size must be positive, got ", options.batch_size());
  const int64_t n = xs[0].size(0);
  const int64_t count = detail::batch_count(n, options.batch_size(), options.steps());
  CallbackList callbacks(options.callbacks());
  if (options.verbose() != 0) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({1, count, options.verbose()});
  NoGradGuard no_grad;
  callbacks.on_predict_begin();
  std::vector<Tensor> out;
  std::vector<int64_t> rows;
  for (int64_t step = 0; step < count; ++step) {
    callbacks.on_predict_batch_begin(step);
    const int64_t begin = step * options.batch_size(), end = std::min(n, begin + options.batch_size());
    const std::vector<Tensor> yb = forward(detail::rows_of(xs, {}, begin, end), /*training=*/false);
    out.resize(yb.size());
    rows.resize(yb.size(), 0);
    for (size_t i = 0; i < yb.size(); ++i) {
      const std::string label = yb.size() == 1 ? "" : " for output '" + model_.output_names.at(i) + "'";
      append_batch(out[i], rows[i], yb[i], end - begin, std::min(n, count * options.batch_size()), step, label);
    }
    callbacks.on_predict_batch_end(step);
  }
  callbacks.on_predict_end();
  KEEL_CHECK(!out.empty(), "predict: no batches (x has ", n, " samples)");
  return out;
}

}  // namespace keel::keras
