// keras::ReduceLROnPlateau, as tf.keras 2.11: multiply the learning rate by `factor` when `monitor`
// has not improved for `patience` epochs, then wait `cooldown` epochs before counting again.
//
//   auto reduce = std::make_shared<keras::ReduceLROnPlateau>(
//       keras::ReduceLROnPlateauOptions().monitor("val_loss").factor(0.2).patience(5).min_lr(1e-3));
//   auto history = model.fit(x, y, keras::FitOptions().epochs(50).validation_split(0.1).callbacks({reduce}));
//   history->at("lr");   // the learning rate at the end of each epoch
//
// Keras's algorithm, at each epoch's end: "lr" (the optimizer's learning rate) is added to the logs
// first; then, if the monitor is in the logs, a cooldown in progress counts down (cooldown_counter -= 1,
// wait = 0); an improvement (mode "min": current < best - min_delta; "max": current > best + min_delta)
// becomes the best and resets wait; otherwise, outside cooldown, wait += 1, and when wait >= patience
// and the learning rate (as f32) is above min_lr, the learning rate becomes max(lr * factor, min_lr),
// cooldown_counter = cooldown and wait = 0. Mode "auto" maximizes monitors containing "acc" (Keras's
// test for this callback, unlike EarlyStopping's) and minimizes the rest. verbose > 0 prints Keras's
// "\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513." (the f32 learning
// rate times factor, as Python prints it); a missing monitor prints Keras's warning naming the keys
// present, "lr" included. Errors: factor >= 1.0 (Keras's "ReduceLROnPlateau does not support a factor
// >= 1.0. Got 1.5"), a mode that is not auto, min or max (Keras warns and falls back to auto; keel,
// as for EarlyStopping, refuses it), no optimizer, and what set_learning_rate throws.
// The learning rate changes through the optimizer fit was compiled with (TrainingControl::optimizer,
// or model()->optimizer()). State (wait, cooldown_counter, best) is reset at on_train_begin and saved
// with checkpoints, so BackupAndRestore resumes it exactly (the learning rate is the optimizer's).
#pragma once

#include <iosfwd>
#include <string>

#include "keel/keras/callbacks/callback.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct ReduceLROnPlateauOptions {
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, std::string, monitor, "val_loss")
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, double, factor, 0.1)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, int, patience, 10)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, int, verbose, 0)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, std::string, mode, "auto")  // "auto", "min", "max"
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, double, min_delta, 1e-4)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, int, cooldown, 0)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, double, min_lr, 0.0)
  KEEL_TRAIN_ARG(ReduceLROnPlateauOptions, std::ostream*, out, nullptr)  // messages and warnings (default std::cout)
};

class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = ReduceLROnPlateauOptions());

  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;

  const ReduceLROnPlateauOptions& options() const { return options_; }
  int wait() const { return wait_; }
  int cooldown_counter() const { return cooldown_counter_; }
  double best() const { return best_; }
  bool maximizing() const { return maximize_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }

  bool has_state() const override { return true; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  void reset();
  bool is_improvement(double current) const;
  std::ostream& out() const;

  ReduceLROnPlateauOptions options_;
  bool maximize_;
  int wait_ = 0;
  int cooldown_counter_ = 0;
  double best_;
  bool restored_ = false;
};

}  // namespace keel::keras
