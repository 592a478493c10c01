#include "keel/keras/progbar.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

namespace keel::keras {

namespace {

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string printf_int(const char* fmt, long long v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

int num_digits(int64_t n) { return n <= 0 ? 1 : static_cast<int>(std::floor(std::log10(static_cast<double>(n)))) + 1; }

std::string counter(int64_t current, int64_t target) {
  const std::string cur = std::to_string(current);
  const int digits = num_digits(target);
  std::string pad(cur.size() < static_cast<size_t>(digits) ? static_cast<size_t>(digits) - cur.size() : 0, ' ');
  return pad + cur + "/" + std::to_string(target);
}

}  // namespace

Progbar::Progbar(std::optional<int64_t> target, ProgbarOptions options)
    : target_(target), options_(std::move(options)) {
  out_ = options_.out() ? options_.out() : &std::cout;
  if (options_.is_terminal())
    dynamic_ = options_.is_terminal()();
  else
    dynamic_ = out_ == &std::cout && ::isatty(STDOUT_FILENO) == 1;
  start_ = now();
  time_at_epoch_start_ = start_;
  last_update_ = -std::numeric_limits<double>::infinity();
}

double Progbar::now() const {
  if (options_.clock()) return options_.clock()();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string Progbar::format_time(double t, const std::string& unit_name) {
  if (t >= 1 || t == 0) return printf_str(" %.0fs/", t) + unit_name;
  if (t >= 1e-3) return printf_str(" %.0fms/", t * 1e3) + unit_name;
  return printf_str(" %.0fus/", t * 1e6) + unit_name;
}

std::string Progbar::format_value(double v) { return std::abs(v) > 1e-3 ? printf_str("%.4f", v) : printf_str("%.4e", v); }

double Progbar::estimate_step_duration(int64_t current, double t) {
  if (current <= 0) return 0;
  double per_unit;
  if (time_after_first_step_ && current > 1)
    per_unit = (t - *time_after_first_step_) / static_cast<double>(current - 1);
  else
    per_unit = (t - start_) / static_cast<double>(current);
  if (current == 1) time_after_first_step_ = t;
  return per_unit;
}

void Progbar::update_auto(int64_t current, const Logs& values) {
  update(current, values, target_.has_value() && current >= *target_);
}

void Progbar::update(int64_t current, const Logs& values, bool finalize) {
  for (const auto& [k, v] : values) values_.set(k, v);
  const double t = now();
  std::string info = printf_str(" - %.0fs", t - start_);
  if (target_ && current == *target_) time_at_epoch_end_ = t;

  if (options_.verbose() == 1) {
    if (t - last_update_ < options_.interval() && !finalize) return;
    if (!dynamic_ && !finalize) {  // line-based output: only the final line of each epoch
      last_update_ = t;
      estimate_step_duration(current, t);
      return;
    }
    const int64_t prev_total_width = total_width_;
    std::string message;
    if (dynamic_) message += std::string(static_cast<size_t>(prev_total_width), '\b') + "\r";
    std::string bar;
    if (target_) {
      const int64_t target = *target_;
      bar = counter(current, target) + " [";
      const double prog = target > 0 ? static_cast<double>(current) / static_cast<double>(target) : 1.0;
      const auto prog_width = static_cast<int64_t>(static_cast<double>(options_.width()) * prog);
      if (prog_width > 0) {
        bar += std::string(static_cast<size_t>(prog_width - 1), '=');
        bar += current < target ? ">" : "=";
      }
      if (options_.width() > prog_width) bar += std::string(static_cast<size_t>(options_.width() - prog_width), '.');
      bar += "]";
    } else {
      bar = printf_int("%7lld/Unknown", static_cast<long long>(current));
    }
    total_width_ = static_cast<int64_t>(bar.size());
    message += bar;
    const double per_unit = estimate_step_duration(current, t);
    if (!target_ || finalize) {
      info += format_time(per_unit, options_.unit_name());
    } else {
      const double eta = per_unit * static_cast<double>(*target_ - current);
      std::string eta_format;
      if (eta > 3600) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(eta / 3600),
                      static_cast<long long>(std::fmod(eta, 3600) / 60), static_cast<long long>(std::fmod(eta, 60)));
        eta_format = buf;
      } else if (eta > 60) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(eta / 60),
                      static_cast<long long>(std::fmod(eta, 60)));
        eta_format = buf;
      } else {
        eta_format = printf_int("%llds", static_cast<long long>(eta));
      }
      info = " - ETA: " + eta_format;
    }
    for (const auto& [k, v] : values_) info += " - " + k + ": " + format_value(v);
    total_width_ += static_cast<int64_t>(info.size());
    if (dynamic_ && prev_total_width > total_width_)
      info += std::string(static_cast<size_t>(prev_total_width - total_width_), ' ');
    if (finalize) info += "\n";
    message += info;
    *out_ << message << std::flush;
  } else if (options_.verbose() == 2) {
    if (finalize) {
      std::string line = counter(current, target_.value_or(current)) + info;
      for (const auto& [k, v] : values_)
        line += " - " + k + ": " + (v > 1e-3 ? printf_str("%.4f", v) : printf_str("%.4e", v));
      if (time_at_epoch_end_) {
        const double per_epoch = *time_at_epoch_end_ - time_at_epoch_start_;
        const int64_t steps = target_.value_or(current);
        const double per_step = steps > 0 ? per_epoch / static_cast<double>(steps) : 0.0;
        time_at_epoch_start_ = t;
        time_at_epoch_end_.reset();
        line += " -" + format_time(per_epoch, "epoch");
        line += " -" + format_time(per_step, options_.unit_name());
        line += "\n";
      }
      *out_ << line << std::flush;
    }
  }
  last_update_ = t;
}

}  // namespace keel::keras
