// keras::Trainer's fit and evaluate: the epoch loop, validation and the evaluation loop (the steps and
// the batch methods are trainer.cpp, the rows of a batch trainer_rows.cpp).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include "keel/graph/error.h"
#include "keel/graph/generator.h"
#include "keel/keras/callbacks/progbar_logger.h"
#include "keel/keras/trainer.h"

namespace keel::keras {

Logs Trainer::run_evaluation(const Data& data, int64_t batch_size, int64_t steps, CallbackList& callbacks) {
  reset_metrics();
  Logs logs = current_logs();
  callbacks.on_test_begin();
  const int64_t n = data.samples();
  const int64_t count = detail::batch_count(n, batch_size, steps);
  for (int64_t step = 0; step < count; ++step) {
    callbacks.on_test_batch_begin(step);
    const int64_t begin = step * batch_size, end = std::min(n, begin + batch_size);
    logs = test_step(data.rows({}, begin, end));
    callbacks.on_test_batch_end(step, logs);
  }
  callbacks.on_test_end(logs);
  return logs;
}

Logs Trainer::evaluate(const Arrays& x, const Arrays& y, const EvaluateOptions& options) {
  check_compiled("evaluate");
  const Data d = resolve(x, y, "evaluate", options.sample_weight());
  KEEL_CHECK(options.batch_size() > 0, "evaluate: batch_size must be positive, got ", options.batch_size());
  CallbackList callbacks(options.callbacks());
  if (options.verbose() != 0) callbacks.append(std::make_shared<ProgbarLogger>(options.progbar()));
  control_.weights = model_.weights;
  control_.optimizer = optimizer_;
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  const int64_t steps = detail::batch_count(d.samples(), options.batch_size(), options.steps());
  callbacks.set_params({1, steps, options.verbose()});
  return run_evaluation(d, options.batch_size(), options.steps(), callbacks);
}

std::shared_ptr<History> Trainer::fit(const Arrays& x, const Arrays& y, const FitOptions& options) {
  check_compiled("fit");
  const Data all = resolve(x, y, "fit", options.sample_weight());
  const int64_t bs = options.batch_size();
  KEEL_CHECK(bs > 0, "fit: batch_size must be positive, got ", bs);
  KEEL_CHECK(options.epochs() >= 0 && options.initial_epoch() >= 0, "fit: epochs (", options.epochs(),
             ") and initial_epoch (", options.initial_epoch(), ") must not be negative");
  KEEL_CHECK(options.validation_freq() >= 1, "fit: validation_freq must be at least 1, got ", options.validation_freq());
  KEEL_CHECK(options.validation_batch_size() >= 0 && options.validation_steps() >= 0, "fit: validation_batch_size (",
             options.validation_batch_size(), ") and validation_steps (", options.validation_steps(),
             ") must not be negative");
  const double split = options.validation_split();
  KEEL_CHECK(split >= 0 && split < 1, "fit: validation_split must be in [0, 1), got ", split);

  Data train = all;
  std::optional<Data> val;
  if (options.validation_arrays()) {
    val = resolve(options.validation_arrays()->first, options.validation_arrays()->second, "fit: validation_data",
                  options.validation_sample_weight());
  } else if (split > 0) {
    // The last fraction of every array, before shuffling, as Keras.
    const int64_t samples = all.samples();
    const auto split_at = static_cast<int64_t>(std::floor(static_cast<double>(samples) * (1.0 - split)));
    KEEL_CHECK(split_at > 0 && split_at < samples, "fit: validation_split ", split, " of ", samples,
               " samples leaves ", split_at, " for training and ", samples - split_at, " for validation");
    train = all.rows({}, 0, split_at);  // the sample weights too, as Keras's train_validation_split
    val = all.rows({}, split_at, samples);
  }
  // Training data only: Keras maps class_weight over the training dataset, not the validation data.
  apply_class_weight(train, options.class_weight(), "fit");
  const int64_t n = train.samples();
  KEEL_CHECK(n > 0, "fit: no training samples");
  // Keras's array data are one stream of batches: (epochs - initial_epoch) passes over the samples,
  // each pass in its own order; an epoch takes the next steps_per_epoch batches of it (by default one
  // pass), so a shorter epoch leaves the rest of the pass to the next one and a longer one runs into
  // the next pass. When the stream runs out, training stops after that epoch, with Keras's warning.
  const int64_t pass_batches = detail::batch_count(n, bs, 0);
  const int64_t steps = options.steps_per_epoch() > 0 ? options.steps_per_epoch() : pass_batches;

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
  control_.optimizer = optimizer_;
  control_.state = &state;
  control_.callbacks = &callbacks.callbacks();
  struct Unshare {  // the list dies with this call
    TrainingControl& c;
    ~Unshare() { c.callbacks = nullptr; }
  } unshare{control_};
  callbacks.set_control(&control_);
  callbacks.set_model(model_.model);
  callbacks.set_params({options.epochs(), steps, options.verbose(), val.has_value()});

  callbacks.on_train_begin();  // may restore `state` (BackupAndRestore)
  // The stream starts at initial_epoch (or at the restored epoch, were that earlier).
  const int stream_start = std::min(options.initial_epoch(), state.epoch());
  const int64_t stream_batches = static_cast<int64_t>(std::max(0, options.epochs() - stream_start)) * pass_batches;
  Logs training_logs;
  bool out_of_data = false;
  int64_t perm_pass = -1;
  std::vector<int64_t> perm;
  for (int epoch = state.epoch(); epoch < options.epochs(); ++epoch) {
    const int64_t first_step = state.step();  // > 0: resuming inside this epoch, metrics restored
    if (first_step == 0) reset_metrics();
    callbacks.on_epoch_begin(epoch);
    Logs logs = current_logs();
    for (int64_t step = first_step; step < steps; ++step) {
      const int64_t batch = static_cast<int64_t>(epoch - stream_start) * steps + step;  // in the stream
      if (batch >= stream_batches) {
        std::ostream& out = options.progbar().out() ? *options.progbar().out() : std::cout;
        out << "WARNING: Your input ran out of data; interrupting training. Make sure that your dataset or "
               "generator can generate at least `steps_per_epoch * epochs` batches (in this case, "
            << (options.epochs() - stream_start) * steps
            << " batches). You may need to use the repeat() function when building your dataset.\n";
        out_of_data = true;
        break;
      }
      // Pass p is in the order of epoch stream_start + p (without steps_per_epoch, pass p is that epoch).
      // One permutation for every array: each batch keeps its samples' inputs, targets and weights together.
      const int64_t pass = batch / pass_batches;
      if (options.shuffle() && pass != perm_pass) {
        perm = detail::epoch_permutation(n, state.shuffle_seed(), stream_start + static_cast<int>(pass));
        perm_pass = pass;
      }
      callbacks.on_train_batch_begin(step);
      const int64_t begin = (batch % pass_batches) * bs, end = std::min(n, begin + bs);
      logs = train_step(train.rows(perm, begin, end));
      state.at(epoch, step + 1);
      callbacks.on_train_batch_end(step, logs);
      if (control_.stop_training) break;
    }
    Logs epoch_logs = logs;
    if (val && (epoch + 1) % options.validation_freq() == 0) {  // Keras's _should_eval: 1-based epochs
      const int64_t val_bs = options.validation_batch_size() > 0 ? options.validation_batch_size() : bs;
      const Logs val_logs = run_evaluation(*val, val_bs, options.validation_steps(), callbacks);
      for (const auto& [k, v] : val_logs) epoch_logs.set("val_" + k, v);
    }
    state.at(epoch + 1, 0);
    callbacks.on_epoch_end(epoch, epoch_logs);
    training_logs = epoch_logs;
    if (control_.stop_training || out_of_data) break;
  }
  callbacks.on_train_end(training_logs);
  return callbacks.history();
}

}  // namespace keel::keras
