// Keras's progress bar (keras/utils/generic_utils.py Progbar), with the clock, the output stream and
// the terminal test injectable.
//
//   keras::Progbar bar(1875, keras::ProgbarOptions().verbose(1));
//   bar.update(k + 1, logs);                  // each step
//   bar.update(1875, logs, /*finalize=*/true); // end of epoch
//
// verbose=1 on a terminal redraws one line with backspaces and a carriage return, at most every
// `interval` seconds, ETA while running:
//   " 937/1875 [==============>...............] - ETA: 1s - loss: 0.5312 - accuracy: 0.8125"
// and ends the epoch with
//   "1875/1875 [==============================] - 2s 1ms/step - loss: 0.4952 - accuracy: 0.8500\n".
// verbose=1 when the output is not a terminal prints only that final line (no stream of \r).
// verbose=2 prints one line per epoch: "1875/1875 - 2s - loss: ... - accuracy: ... - 2s/epoch - 1ms/step\n".
// Values are shown as given (the training loop passes running means), "%.4f" or "%.4e" below 1e-3 as Keras.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "keel/keras/callbacks/callback.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct ProgbarOptions {
  KEEL_TRAIN_ARG(ProgbarOptions, int, verbose, 1)
  KEEL_TRAIN_ARG(ProgbarOptions, int, width, 30)
  KEEL_TRAIN_ARG(ProgbarOptions, double, interval, 0.05)
  KEEL_TRAIN_ARG(ProgbarOptions, std::string, unit_name, "step")
  // Where to write (default std::cout), the clock in seconds (default steady_clock) and whether the
  // output is a terminal (default isatty(stdout) when writing to std::cout, else false).
  KEEL_TRAIN_ARG(ProgbarOptions, std::ostream*, out, nullptr)
  KEEL_TRAIN_ARG(ProgbarOptions, std::function<double()>, clock, nullptr)
  KEEL_TRAIN_ARG(ProgbarOptions, std::function<bool()>, is_terminal, nullptr)
};

class Progbar {
 public:
  // target: total steps, or nullopt when unknown ("   12/Unknown").
  explicit Progbar(std::optional<int64_t> target, ProgbarOptions options = ProgbarOptions());
  void update(int64_t current, const Logs& values = {}, bool finalize = false);
  // finalize defaults to current >= target when the target is known.
  void update_auto(int64_t current, const Logs& values = {});
  void set_target(int64_t target) { target_ = target; }
  std::optional<int64_t> target() const { return target_; }
  bool dynamic_display() const { return dynamic_; }

  // Keras's duration formats: " 2s/step", " 15ms/step", " 120us/step".
  static std::string format_time(double seconds_per_unit, const std::string& unit_name);
  // Python's "%.4f" above 1e-3 in magnitude, else "%.4e".
  static std::string format_value(double v);

 private:
  double now() const;
  double estimate_step_duration(int64_t current, double now);

  std::optional<int64_t> target_;
  ProgbarOptions options_;
  std::ostream* out_;
  bool dynamic_;
  double start_;
  double last_update_ = 0;
  int64_t total_width_ = 0;
  std::optional<double> time_after_first_step_;
  double time_at_epoch_start_;
  std::optional<double> time_at_epoch_end_;
  Logs values_;  // last values, in first-seen order
};

}  // namespace keel::keras
