#include "keel/keras/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "keel/autodiff/backward.h"
#include "keel/graph/error.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/keras/callbacks/progbar_logger.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras {

namespace {

void check_xy(const Tensor& x, const Tensor& y, const std::string& what) {
  KEEL_CHECK(x.defined() && y.defined(), what, ": x and y must be defined");
  KEEL_CHECK(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), what, ": x ", shape_str(x.shape()), " and y ",
             shape_str(y.shape()), " must have the same number of samples (first axis)");
  KEEL_CHECK(x.size(0) > 0, what, ": x ", shape_str(x.shape()), " has no samples; expected a non-empty array");
}

int64_t batches(int64_t n, int64_t batch_size, int64_t steps) {
  const int64_t all = (n + batch_size - 1) / batch_size;
  return steps > 0 ? std::min(steps, all) : all;
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
  KEEL_CHECK(options.optimizer(), "compile: no optimizer given");
  KEEL_CHECK(options.has_loss(), "compile: no loss given");
  CompiledOutputs outputs(options, model_.output_names);  // throws before anything changes
  compile_options_ = options;
  optimizer_ = options.optimizer();
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

Trainer::Data Trainer::resolve(const Arrays& x, const Arrays& y, const std::string& what) const {
  Data d{x.in_order(model_.input_names, what, "x", "input"), y.in_order(model_.output_names, what, "y", "output")};
  if (d.x.size() == 1 && d.y.size() == 1) {
    check_xy(d.x[0], d.y[0], what);  // one input and one output: the messages as before
    return d;
  }
  std::vector<LabelledArray> labelled;
  for (size_t i = 0; i < d.x.size(); ++i) labelled.push_back({label_of(model_.input_names, i, "input", "x"), d.x[i]});
  for (size_t i = 0; i < d.y.size(); ++i) labelled.push_back({label_of(model_.output_names, i, "output", "y"), d.y[i]});
  check_same_samples(labelled, what);
  KEEL_CHECK(d.samples() > 0, what, ": ", labelled[0].label, " ", shape_str(d.x[0].shape()),
             " has no samples; expected non-empty arrays");
  return d;
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

Logs Trainer::train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  std::vector<Tensor> y_pred, per_output;
  Tensor loss;
  {
    EnableGradGuard grad_mode;
    y_pred = forward(x, /*training=*/true);
    loss = outputs_.total_loss(y, y_pred, per_output);
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
  const auto batch = static_cast<double>(x.at(0).size(0));
  loss_tracker_->update_state(loss.item<double>(), batch);
  for (auto& p : y_pred) p = p.detach();
  outputs_.update(per_output, y, y_pred, batch);
  return current_logs();
}

Logs Trainer::test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  NoGradGuard no_grad;
  const std::vector<Tensor> y_pred = forward(x, /*training=*/false);
  std::vector<Tensor> per_output;
  const Tensor loss = outputs_.total_loss(y, y_pred, per_output);
  const auto batch = static_cast<double>(x.at(0).size(0));
  loss_tracker_->update_state(loss.item<double>(), batch);
  outputs_.update(per_output, y, y_pred, batch);
  return current_logs();
}

Logs Trainer::train_on_batch(const Arrays& x, const Arrays& y) {
  check_compiled("train_on_batch");
  const Data d = resolve(x, y, "train_on_batch");
  reset_metrics();
  return train_step(d.x, d.y);
}

Logs Trainer::test_on_batch(const Arrays& x, const Arrays& y) {
  check_compiled("test_on_batch");
  const Data d = resolve(x, y, "test_on_batch");
  reset_metrics();
  return test_step(d.x, d.y);
}

Logs Trainer::run_evaluation(const Data& data, int64_t batch_size, int64_t steps, CallbackList& callbacks) {
  reset_metrics();
  Logs logs = current_logs();
  callbacks.on_test_begin();
  const int64_t n = data.samples();
  const int64_t count = batches(n, batch_size, steps);
  for (int64_t step = 0; step < count; ++step) {
    callbacks.on_test_batch_begin(step);
    const int64_t begin = step * batch_size, end = std::min(n, begin + batch_size);
    logs = test_step(detail::rows_of(data.x, {}, begin, end), detail::rows_of(data.y, {}, begin, end));
    callbacks.on_test_batch_end(step, logs);
  }
  callbacks.on_test_end(logs);
  return logs;
}

Logs Trainer::evaluate(const Arrays& x, const Arrays& y, const EvaluateOptions& options) {
  check_compiled("evaluate");
  const Data d = resolve(x, y, "evaluate");
  KEEL_CHECK(options.batch_size() > 0, "evaluate: batch_size must be positive, got ", options.batch_size());
  CallbackList callbacks(options.callbacks());
  if (options.verbose() != 0) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  control_.weights = model_.weights;
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({1, batches(d.samples(), options.batch_size(), options.steps()), options.verbose()});
  return run_evaluation(d, options.batch_size(), options.steps(), callbacks);
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
  const int64_t count = batches(n, options.batch_size(), options.steps());
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

std::shared_ptr<History> Trainer::fit(const Arrays& x, const Arrays& y, const FitOptions& options) {
  check_compiled("fit");
  const Data all = resolve(x, y, "fit");
  const int64_t bs = options.batch_size();
  KEEL_CHECK(bs > 0, "fit: batch_size must be positive, got ", bs);
  KEEL_CHECK(options.epochs() >= 0 && options.initial_epoch() >= 0, "fit: epochs (", options.epochs(),
             ") and initial_epoch (", options.initial_epoch(), ") must not be negative");
  const double split = options.validation_split();
  KEEL_CHECK(split >= 0 && split < 1, "fit: validation_split must be in [0, 1), got ", split);

  Data train = all;
  std::optional<Data> val;
  if (options.validation_arrays()) {
    val = resolve(options.validation_arrays()->first, options.validation_arrays()->second, "fit: validation_data");
  } else if (split > 0) {
    // The last fraction of every array, before shuffling, as Keras.
    const int64_t samples = all.samples();
    const auto split_at = static_cast<int64_t>(std::floor(static_cast<double>(samples) * (1.0 - split)));
    KEEL_CHECK(split_at > 0 && split_at < samples, "fit: validation_split ", split, " of ", samples,
               " samples leaves ", split_at, " for training and ", samples - split_at, " for validation");
    train = Data{detail::rows_of(all.x, {}, 0, split_at), detail::rows_of(all.y, {}, 0, split_at)};
    val = Data{detail::rows_of(all.x, {}, split_at, samples), detail::rows_of(all.y, {}, split_at, samples)};
  }
  const int64_t n = train.samples();
  KEEL_CHECK(n > 0, "fit: no training samples");
  const int64_t steps = batches(n, bs, options.steps_per_epoch());

  CallbackList callbacks(options.callbacks());
  bool has_progbar = false;
  for (const auto& cb : callbacks.callbacks()) has_progbar |= std::dynamic_pointer_cast<ProgbarLogger>(cb) != nullptr;
  if (options.verbose() != 0 && !has_progbar) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  callbacks.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/false);
  const uint64_t seed = options.seed() ? *options.seed() : default_generator().next_u64();
  TrainingState& state = *state_;
  state.begin(options.initial_epoch(), n, steps, seed);
  control_.stop_training = false;
  control_.weights = model_.weights;
  control_.state = &state;
  control_.callbacks = &callbacks.callbacks();
  struct Unshare {  // the list dies with this call
    TrainingControl& c;
    ~Unshare() { c.callbacks = nullptr; }
  } unshare{control_};
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({options.epochs(), steps, options.verbose()});

  callbacks.on_train_begin();  // may restore `state` (BackupAndRestore)
  Logs training_logs;
  for (int epoch = state.epoch(); epoch < options.epochs(); ++epoch) {
    const int64_t first_step = state.step();  // > 0: resuming inside this epoch, metrics restored
    if (first_step == 0) reset_metrics();
    callbacks.on_epoch_begin(epoch);
    // One permutation for every array: each batch keeps its samples' inputs and targets together.
    const std::vector<int64_t> perm = options.shuffle() ? detail::epoch_permutation(n, state.shuffle_seed(), epoch)
                                                        : std::vector<int64_t>();
    Logs logs = current_logs();
    for (int64_t step = first_step; step < steps; ++step) {
      callbacks.on_train_batch_begin(step);
      const int64_t begin = step * bs, end = std::min(n, begin + bs);
      logs = train_step(detail::rows_of(train.x, perm, begin, end), detail::rows_of(train.y, perm, begin, end));
      state.at(epoch, step + 1);
      callbacks.on_train_batch_end(step, logs);
      if (control_.stop_training) break;
    }
    Logs epoch_logs = logs;
    if (val) {
      const Logs val_logs = run_evaluation(*val, bs, 0, callbacks);
      for (const auto& [k, v] : val_logs) epoch_logs.set("val_" + k, v);
    }
    state.at(epoch + 1, 0);
    callbacks.on_epoch_end(epoch, epoch_logs);
    training_logs = epoch_logs;
    if (control_.stop_training) break;
  }
  callbacks.on_train_end(training_logs);
  return callbacks.history();
}

}  // namespace keel::keras
