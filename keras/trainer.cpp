#include "keel/keras/trainer.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "keel/autodiff/backward.h"
#include "keel/graph/error.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"
#include "keel/keras/callbacks/progbar_logger.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras {

namespace detail {

namespace {
size_t row_bytes(const Tensor& x, const char* what) {
  KEEL_CHECK(x.defined() && x.dim() >= 1, what, ": expected a tensor with a batch axis, got ",
             x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  KEEL_CHECK(x.dtype() != DType::string, what, ": string tensors are not supported as model data");
  const int64_t rows = x.size(0);
  return rows == 0 ? 0 : static_cast<size_t>(x.numel() / rows) * dtype_size(x.dtype());
}
Shape with_rows(const Shape& s, int64_t rows) {
  Shape out = s;
  out[0] = rows;
  return out;
}
}  // namespace

Tensor take_rows(const Tensor& x, int64_t begin, int64_t end) {
  const size_t rb = row_bytes(x, "take_rows");
  KEEL_CHECK(0 <= begin && begin <= end && end <= x.size(0), "take_rows: rows [", begin, ", ", end, ") of ",
             shape_str(x.shape()));
  Tensor out = Tensor::uninitialized(with_rows(x.shape(), end - begin), x.dtype());
  if (rb > 0 && end > begin)
    std::memcpy(out.raw_data(), static_cast<const char*>(x.raw_data()) + static_cast<size_t>(begin) * rb,
                static_cast<size_t>(end - begin) * rb);
  return out;
}

Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& index, int64_t begin, int64_t end) {
  const size_t rb = row_bytes(x, "gather_rows");
  Tensor out = Tensor::uninitialized(with_rows(x.shape(), end - begin), x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = begin; i < end; ++i) {
    const int64_t r = index[static_cast<size_t>(i)];
    KEEL_CHECK(0 <= r && r < x.size(0), "gather_rows: row ", r, " of ", shape_str(x.shape()));
    if (rb > 0) std::memcpy(dst + static_cast<size_t>(i - begin) * rb, src + static_cast<size_t>(r) * rb, rb);
  }
  return out;
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int epoch) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  Generator gen(seed);
  gen.set_state({seed, static_cast<uint64_t>(epoch) << 32});
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(i + 1)));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  return perm;
}

}  // namespace detail

namespace {

void check_xy(const Tensor& x, const Tensor& y, const char* what) {
  KEEL_CHECK(x.defined() && y.defined(), what, ": x and y must be defined");
  KEEL_CHECK(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), what, ": x ", shape_str(x.shape()), " and y ",
             shape_str(y.shape()), " must have the same number of samples (first axis)");
  KEEL_CHECK(x.size(0) > 0, what, ": x ", shape_str(x.shape()), " has no samples; expected a non-empty array");
}

int64_t batches(int64_t n, int64_t batch_size, int64_t steps) {
  const int64_t all = (n + batch_size - 1) / batch_size;
  return steps > 0 ? std::min(steps, all) : all;
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
  KEEL_CHECK(options.loss(), "compile: no loss given");
  compile_options_ = options;
  optimizer_ = options.optimizer();
  loss_ = options.loss();
  loss_tracker_ = std::make_shared<Mean>("loss");
  metrics_ = options.build_metrics();
}

void Trainer::check_compiled(const char* what) const {
  KEEL_CHECK(compiled(), what, ": you must compile the model before training/testing (call compile first)");
}

std::vector<std::shared_ptr<Metric>> Trainer::metrics() const {
  std::vector<std::shared_ptr<Metric>> out;
  if (loss_tracker_) out.push_back(loss_tracker_);
  for (const auto& m : metrics_) out.push_back(m);
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

Logs Trainer::train_step(const Tensor& x, const Tensor& y) {
  Tensor y_pred, loss;
  {
    EnableGradGuard grad_mode;
    y_pred = model_.forward(x, /*training=*/true);
    loss = (*loss_)(y, y_pred);
  }
  // After the forward pass, as Keras reads them inside the tape: a model built by its first call
  // (a Sequential without input_shape) has no variables before it.
  const std::vector<Variable> vars = model_.trainable_variables();
  KEEL_CHECK(loss.numel() == 1, "fit: the loss must reduce to a scalar, got ", shape_str(loss.shape()));
  std::vector<Tensor> sources;
  sources.reserve(vars.size());
  for (const auto& v : vars) sources.push_back(v.value());
  std::vector<Tensor> grads;
  if (loss.requires_grad()) grads = keel::grad(loss, sources);
  else grads.resize(vars.size());
  optimizer_->apply_gradients(grads, vars);
  NoGradGuard no_grad;
  loss_tracker_->update_state(loss.item<double>(), static_cast<double>(x.size(0)));
  const Tensor pred = y_pred.detach();
  for (const auto& m : metrics_) m->update_state(y, pred);
  return current_logs();
}

Logs Trainer::test_step(const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  const Tensor y_pred = model_.forward(x, /*training=*/false);
  const Tensor loss = (*loss_)(y, y_pred);
  loss_tracker_->update_state(loss.item<double>(), static_cast<double>(x.size(0)));
  for (const auto& m : metrics_) m->update_state(y, y_pred);
  return current_logs();
}

Logs Trainer::train_on_batch(const Tensor& x, const Tensor& y) {
  check_compiled("train_on_batch");
  check_xy(x, y, "train_on_batch");
  reset_metrics();
  return train_step(x, y);
}

Logs Trainer::test_on_batch(const Tensor& x, const Tensor& y) {
  check_compiled("test_on_batch");
  check_xy(x, y, "test_on_batch");
  reset_metrics();
  return test_step(x, y);
}

Logs Trainer::run_evaluation(const Tensor& x, const Tensor& y, int64_t batch_size, int64_t steps,
                             CallbackList& callbacks) {
  reset_metrics();
  Logs logs = current_logs();
  callbacks.on_test_begin();
  const int64_t n = x.size(0);
  const int64_t count = batches(n, batch_size, steps);
  for (int64_t step = 0; step < count; ++step) {
    callbacks.on_test_batch_begin(step);
    const int64_t begin = step * batch_size, end = std::min(n, begin + batch_size);
    logs = test_step(detail::take_rows(x, begin, end), detail::take_rows(y, begin, end));
    callbacks.on_test_batch_end(step, logs);
  }
  callbacks.on_test_end(logs);
  return logs;
}

Logs Trainer::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  check_compiled("evaluate");
  check_xy(x, y, "evaluate");
  KEEL_CHECK(options.batch_size() > 0, "evaluate: batch_size must be positive, got ", options.batch_size());
  CallbackList callbacks(options.callbacks());
  if (options.verbose() != 0) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  control_.weights = model_.weights;
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({1, batches(x.size(0), options.batch_size(), options.steps()), options.verbose()});
  return run_evaluation(x, y, options.batch_size(), options.steps(), callbacks);
}

Tensor Trainer::predict(const Tensor& x, const PredictOptions& options) {
  KEEL_CHECK(x.defined() && x.dim() >= 1, "predict: x needs a batch axis");
  KEEL_CHECK(x.size(0) > 0, "predict: x ", shape_str(x.shape()), " has no samples; expected a non-empty array");
  KEEL_CHECK(options.batch_size() > 0, "predict: batch_size must be positive, got ", options.batch_size());
  const int64_t n = x.size(0);
  const int64_t count = batches(n, options.batch_size(), options.steps());
  CallbackList callbacks(options.callbacks());
  if (options.verbose() != 0) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({1, count, options.verbose()});
  NoGradGuard no_grad;
  callbacks.on_predict_begin();
  Tensor out;
  int64_t rows = 0;
  for (int64_t step = 0; step < count; ++step) {
    callbacks.on_predict_batch_begin(step);
    const int64_t begin = step * options.batch_size(), end = std::min(n, begin + options.batch_size());
    Tensor yb = model_.forward(detail::take_rows(x, begin, end), /*training=*/false);
    KEEL_CHECK(yb.dim() >= 1 && yb.size(0) == end - begin, "predict: the model returned ", shape_str(yb.shape()),
               " for a batch of ", end - begin);
    if (!out.defined()) {
      Shape s = yb.shape();
      s[0] = std::min(n, count * options.batch_size());
      out = Tensor::empty(s, yb.dtype());
    }
    KEEL_CHECK(yb.dtype() == out.dtype() && Shape(yb.shape().begin() + 1, yb.shape().end()) ==
                                                Shape(out.shape().begin() + 1, out.shape().end()),
               "predict: batch ", step, " gave ", shape_str(yb.shape()), ", earlier batches ", shape_str(out.shape()));
    const size_t bytes = static_cast<size_t>(yb.numel()) * dtype_size(yb.dtype());
    if (bytes > 0)
      std::memcpy(static_cast<char*>(out.raw_data()) + static_cast<size_t>(rows) * (bytes / static_cast<size_t>(yb.size(0))),
                  yb.raw_data(), bytes);
    rows += yb.size(0);
    callbacks.on_predict_batch_end(step);
  }
  callbacks.on_predict_end();
  KEEL_CHECK(out.defined(), "predict: no batches (x has ", n, " samples)");
  return out;
}

std::shared_ptr<History> Trainer::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  check_compiled("fit");
  check_xy(x, y, "fit");
  const int64_t bs = options.batch_size();
  KEEL_CHECK(bs > 0, "fit: batch_size must be positive, got ", bs);
  KEEL_CHECK(options.epochs() >= 0 && options.initial_epoch() >= 0, "fit: epochs (", options.epochs(),
             ") and initial_epoch (", options.initial_epoch(), ") must not be negative");
  const double split = options.validation_split();
  KEEL_CHECK(split >= 0 && split < 1, "fit: validation_split must be in [0, 1), got ", split);

  Tensor tx = x, ty = y, vx, vy;
  if (options.validation_data()) {
    vx = options.validation_data()->first;
    vy = options.validation_data()->second;
    check_xy(vx, vy, "fit: validation_data");
  } else if (split > 0) {
    const auto split_at = static_cast<int64_t>(std::floor(static_cast<double>(x.size(0)) * (1.0 - split)));
    KEEL_CHECK(split_at > 0 && split_at < x.size(0), "fit: validation_split ", split, " of ", x.size(0),
               " samples leaves ", split_at, " for training and ", x.size(0) - split_at, " for validation");
    tx = detail::take_rows(x, 0, split_at);
    ty = detail::take_rows(y, 0, split_at);
    vx = detail::take_rows(x, split_at, x.size(0));
    vy = detail::take_rows(y, split_at, y.size(0));
  }
  const int64_t n = tx.size(0);
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
    const std::vector<int64_t> perm = options.shuffle() ? detail::epoch_permutation(n, state.shuffle_seed(), epoch)
                                                        : std::vector<int64_t>();
    Logs logs = current_logs();
    for (int64_t step = first_step; step < steps; ++step) {
      callbacks.on_train_batch_begin(step);
      const int64_t begin = step * bs, end = std::min(n, begin + bs);
      const Tensor xb = perm.empty() ? detail::take_rows(tx, begin, end) : detail::gather_rows(tx, perm, begin, end);
      const Tensor yb = perm.empty() ? detail::take_rows(ty, begin, end) : detail::gather_rows(ty, perm, begin, end);
      logs = train_step(xb, yb);
      state.at(epoch, step + 1);
      callbacks.on_train_batch_end(step, logs);
      if (control_.stop_training) break;
    }
    Logs epoch_logs = logs;
    if (vx.defined()) {
      const Logs val = run_evaluation(vx, vy, bs, 0, callbacks);
      for (const auto& [k, v] : val) epoch_logs.set("val_" + k, v);
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
