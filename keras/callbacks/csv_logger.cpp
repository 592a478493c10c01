#include "keel/keras/callbacks/csv_logger.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "keel/graph/error.h"

namespace keel::keras {

CSVLogger::CSVLogger(std::string filename, std::string separator, bool append)
    : filename_(std::move(filename)), separator_(std::move(separator)), append_(append) {
  KEEL_CHECK(!filename_.empty(), "CSVLogger: empty filename");
}

std::string CSVLogger::format_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits, in scientific form: [-]d[.ddd]e[+-]XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::atoi(sci.c_str() + e + 1);
  std::string out;
  if (exponent >= -5 + 1 && exponent < 16) {  // Python's repr: fixed for 1e-4 <= |v| < 1e16
    const int point = exponent + 1;             // digits before the decimal point
    if (point <= 0) {
      out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += ebuf;
  }
  return negative ? "-" + out : out;
}

void CSVLogger::on_train_begin(Logs&) {
  write_header_ = true;
  if (append_) {
    std::ifstream existing(filename_);
    std::string first;
    if (existing && std::getline(existing, first) && !first.empty()) write_header_ = false;
  }
  file_.close();
  file_.clear();
  file_.open(filename_, append_ ? std::ios::app | std::ios::binary : std::ios::trunc | std::ios::binary);
  KEEL_CHECK(file_.is_open(), "CSVLogger: cannot open '", filename_, "' for writing");
  keys_.reset();
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  KEEL_CHECK(file_.is_open(), "CSVLogger '", filename_, "': on_epoch_end before on_train_begin");
  // With validation_freq > 1 the first epoch may have no val_ keys: they get their columns all the same
  // (NA on the epochs without validation), where tf.keras 2.x dropped them from the file.
  const bool validation = params().validation;
  if (!keys_) {
    keys_ = logs.keys();
    const bool has_val = std::any_of(keys_->begin(), keys_->end(), [](const std::string& k) { return k.rfind("val_", 0) == 0; });
    if (validation && !has_val) {
      const size_t n = keys_->size();
      for (size_t i = 0; i < n; ++i) keys_->push_back("val_" + (*keys_)[i]);
    }
    std::sort(keys_->begin(), keys_->end());
    if (write_header_) {
      file_ << "epoch";
      for (const auto& k : *keys_) file_ << separator_ << k;
      file_ << "\r\n";
      write_header_ = false;
    }
  }
  const bool stopped = control() && control()->stop_training;
  file_ << epoch;
  for (const auto& k : *keys_) {
    const std::optional<double> v = logs.get(k);
    KEEL_CHECK(v || stopped || (validation && k.rfind("val_", 0) == 0), "CSVLogger '", filename_, "': epoch ",
               epoch, " has no '", k, "', which the first epoch had");
    file_ << separator_ << (v ? format_float(*v) : std::string("NA"));
  }
  file_ << "\r\n";
  file_.flush();
  KEEL_CHECK(file_.good(), "CSVLogger: writing '", filename_, "' failed");
}

void CSVLogger::on_train_end(Logs&) {
  file_.close();
  keys_.reset();
}

}  // namespace keel::keras
