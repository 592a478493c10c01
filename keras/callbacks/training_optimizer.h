// Internal: the optimizer a callback changes (LearningRateScheduler, ReduceLROnPlateau), Keras's
// model.optimizer.
//
//   Optimizer& opt = detail::training_optimizer(*this, "ReduceLROnPlateau");
//   opt.set_learning_rate(opt.learning_rate() * 0.5);
#pragma once

#include "keel/keras/callbacks/callback.h"

namespace keel::keras::detail {

// TrainingControl::optimizer (set by fit and evaluate), else model()->optimizer(); a keel::Error
// naming `who` when there is neither (no training loop, or a model that was not compiled).
Optimizer& training_optimizer(const Callback& callback, const char* who);

}  // namespace keel::keras::detail
