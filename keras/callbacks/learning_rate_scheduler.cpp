#include "keel/keras/callbacks/learning_rate_scheduler.h"

#include <cmath>
#include <iostream>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/training_optimizer.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras {

LearningRateScheduler::LearningRateScheduler(Schedule schedule, int verbose, std::ostream* out)
    : schedule_(std::move(schedule)), verbose_(verbose), out_(out) {
  KEEL_CHECK(schedule_ != nullptr, "LearningRateScheduler: the schedule is null");
}

void LearningRateScheduler::on_epoch_begin(int epoch, Logs&) {
  Optimizer& opt = detail::training_optimizer(*this, "LearningRateScheduler");
  const double lr = schedule_(epoch, opt.learning_rate());
  KEEL_CHECK(std::isfinite(lr), "LearningRateScheduler: the output of the \"schedule\" function should be a finite "
             "float; at epoch ", epoch, " it returned ", CSVLogger::format_float(lr));
  opt.set_learning_rate(lr);
  if (verbose_ > 0)
    (out_ ? *out_ : std::cout) << "\nEpoch " << (epoch + 1) << ": LearningRateScheduler setting learning rate to "
                               << CSVLogger::format_float(lr) << ".\n";
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  logs.set("lr", detail::training_optimizer(*this, "LearningRateScheduler").learning_rate());
}

}  // namespace keel::keras
