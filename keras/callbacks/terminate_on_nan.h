// keras::TerminateOnNaN, as tf.keras 2.11: stops training when a batch's loss is NaN or infinite.
//
//   auto guard = std::make_shared<keras::TerminateOnNaN>();
//   auto history = model.fit(x, y, keras::FitOptions().epochs(10).callbacks({guard}));
//   history->epoch();   // the epochs that ran, the one that hit the NaN included
//
// After each training batch whose logs' "loss" is NaN or +-inf, prints Keras's "Batch 3: Invalid loss,
// terminating training" (the batch's index within its epoch) and sets TrainingControl::stop_training:
// fit ends that epoch at once (validation and on_epoch_end still run, as in Keras) and runs no
// other. Logs without "loss" are ignored. It has no state.
#pragma once

#include <iosfwd>

#include "keel/keras/callbacks/callback.h"

namespace keel::keras {

class TerminateOnNaN : public Callback {
 public:
  // `out` receives the message (default std::cout).
  explicit TerminateOnNaN(std::ostream* out = nullptr) : out_(out) {}

  void on_train_batch_end(int64_t batch, Logs& logs) override;

 private:
  std::ostream* out_;
};

}  // namespace keel::keras
