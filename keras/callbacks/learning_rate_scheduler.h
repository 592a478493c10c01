// keras::LearningRateScheduler, as tf.keras 2.11: at the start of every epoch, sets the optimizer's
// learning rate to schedule(epoch, current learning rate).
//
//   // Keep 1e-3 for ten epochs, then decay it exponentially.
//   auto lrs = std::make_shared<keras::LearningRateScheduler>(
//       [](int epoch, double lr) { return epoch < 10 ? lr : lr * std::exp(-0.1); }, /*verbose=*/1);
//   auto history = model.fit(x, y, keras::FitOptions().epochs(15).callbacks({lrs}));
//   history->at("lr");   // the learning rate of each epoch
//
// `epoch` counts from 0; `lr` is the optimizer's learning rate (its f32 variable's value), which the
// schedule's result replaces (rounded to f32). verbose > 0 prints Keras's
// "\nEpoch 1: LearningRateScheduler setting learning rate to 0.001." (the value as Python prints it).
// on_epoch_end adds "lr" (the optimizer's learning rate) to the epoch's logs, so History and a
// CSVLogger after it record it. The optimizer is the one fit was compiled with (TrainingControl::
// optimizer, or model()->optimizer()); errors: a null schedule, no optimizer, and a schedule result
// that is not finite (where Keras raises 'The output of the "schedule" function should be float.'),
// which names the epoch and the value. The schedule is not state: the learning rate itself is saved with
// the optimizer, so BackupAndRestore resumes it.
#pragma once

#include <functional>
#include <iosfwd>

#include "keel/keras/callbacks/callback.h"

namespace keel::keras {

class LearningRateScheduler : public Callback {
 public:
  using Schedule = std::function<double(int epoch, double lr)>;
  // `out` receives the verbose messages (default std::cout).
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0, std::ostream* out = nullptr);

  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  int verbose() const { return verbose_; }

 private:
  Schedule schedule_;
  int verbose_;
  std::ostream* out_;
};

}  // namespace keel::keras
