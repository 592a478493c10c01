#include "keel/keras/callbacks/terminate_on_nan.h"

#include <cmath>
#include <iostream>

namespace keel::keras {

void TerminateOnNaN::on_train_batch_end(int64_t batch, Logs& logs) {
  const std::optional<double> loss = logs.get("loss");
  if (!loss || std::isfinite(*loss)) return;
  (out_ ? *out_ : std::cout) << "Batch " << batch << ": Invalid loss, terminating training\n";
  if (control()) control()->stop_training = true;
}

}  // namespace keel::keras
