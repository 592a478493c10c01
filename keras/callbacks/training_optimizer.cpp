#include "keel/keras/callbacks/training_optimizer.h"

#include "keel/graph/error.h"
#include "keel/keras/model.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras::detail {

Optimizer& training_optimizer(const Callback& callback, const char* who) {
  if (callback.control() && callback.control()->optimizer) return *callback.control()->optimizer;
  if (callback.model()) {
    if (const std::shared_ptr<Optimizer> opt = callback.model()->optimizer()) return *opt;
  }
  KEEL_FAIL(who, ": there is no optimizer to set the learning rate of (the model is not compiled, or the callback "
            "runs outside fit)");
}

}  // namespace keel::keras::detail
