#include "keel/keras/callbacks/reduce_lr_on_plateau.h"

#include <algorithm>
#include <iostream>
#include <limits>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/state_io.h"
#include "keel/keras/callbacks/training_optimizer.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras {

namespace {
constexpr unsigned kReduceLROnPlateauVersion = 1;
}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options) : options_(std::move(options)) {
  KEEL_CHECK(options_.factor() < 1.0, "ReduceLROnPlateau does not support a factor >= 1.0. Got ",
             CSVLogger::format_float(options_.factor()));
  const std::string& mode = options_.mode();
  KEEL_CHECK(mode == "auto" || mode == "min" || mode == "max", "ReduceLROnPlateau: mode '", mode,
             "' is not one of auto, min, max");
  maximize_ = mode == "max" || (mode == "auto" && options_.monitor().find("acc") != std::string::npos);
  reset();
}

std::ostream& ReduceLROnPlateau::out() const { return options_.out() ? *options_.out() : std::cout; }

void ReduceLROnPlateau::reset() {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  cooldown_counter_ = 0;
  wait_ = 0;
}

bool ReduceLROnPlateau::is_improvement(double current) const {
  return maximize_ ? current > best_ + options_.min_delta() : current < best_ - options_.min_delta();
}

void ReduceLROnPlateau::on_train_begin(Logs&) {
  if (restored_) {  // resuming: keep the state from the checkpoint
    restored_ = false;
    return;
  }
  reset();
}

void ReduceLROnPlateau::on_train_end(Logs&) {
  restored_ = false;  // a state restored after on_train_begin (BackupAndRestore) must not skip the next reset
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  Optimizer& opt = detail::training_optimizer(*this, "ReduceLROnPlateau");
  logs.set("lr", opt.learning_rate());
  const std::optional<double> current = logs.get(options_.monitor());
  if (!current) {
    out() << "WARNING: Learning rate reduction is conditioned on metric `" << options_.monitor()
          << "` which is not available. Available metrics are: " << logs.joined_keys() << "\n";
    return;
  }
  if (in_cooldown()) {
    cooldown_counter_ -= 1;
    wait_ = 0;
  }
  if (is_improvement(*current)) {
    best_ = *current;
    wait_ = 0;
    return;
  }
  if (in_cooldown()) return;
  wait_ += 1;
  if (wait_ < options_.patience()) return;
  // Keras compares and multiplies the f32 value of the learning rate.
  const float old_lr = static_cast<float>(opt.learning_rate());
  if (!(old_lr > static_cast<float>(options_.min_lr()))) return;
  const double new_lr = std::max(static_cast<double>(old_lr) * options_.factor(), options_.min_lr());
  opt.set_learning_rate(new_lr);
  if (options_.verbose() > 0)
    out() << "\nEpoch " << (epoch + 1) << ": ReduceLROnPlateau reducing learning rate to "
          << CSVLogger::format_float(new_lr) << ".\n";
  cooldown_counter_ = options_.cooldown();
  wait_ = 0;
}

std::string ReduceLROnPlateau::save_state() const {
  return detail::write_state("ReduceLROnPlateau", kReduceLROnPlateauVersion, [&](detail::OArchive& ar) {
    ar << wait_ << cooldown_counter_;
    detail::put_double(ar, best_);
  });
}

void ReduceLROnPlateau::restore_state(const std::string& bytes) {
  int wait = 0, cooldown_counter = 0;
  double best = 0;
  detail::read_state(bytes, "ReduceLROnPlateau", kReduceLROnPlateauVersion, [&](detail::IArchive& ar, unsigned) {
    ar >> wait >> cooldown_counter;
    best = detail::get_double(ar);
  });
  wait_ = wait;
  cooldown_counter_ = cooldown_counter;
  best_ = best;
  restored_ = true;
}

}  // namespace keel::keras
