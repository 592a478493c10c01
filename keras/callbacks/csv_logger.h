// keras::CSVLogger: one CSV row per epoch, as Keras's CSVLogger.
//
//   auto csv = std::make_shared<keras::CSVLogger>("training.log");            // separator ",", no append
//   auto more = std::make_shared<keras::CSVLogger>("training.log", ";", /*append=*/true);
//
// The header is "epoch" then the first epoch's log keys sorted; values are written like Python's
// str(float) (shortest round-trip: "0.4952312111854553", "1e-05", "2.0"), rows end in "\r\n" as
// Python's csv module writes them. With append, the header is written only when the file is new
// or empty. When training was stopped (TrainingControl::stop_training), missing keys are written "NA".
// The file is opened at on_train_begin and closed at on_train_end; each row is flushed.
#pragma once

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "keel/keras/callbacks/callback.h"

namespace keel::keras {

class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, std::string separator = ",", bool append = false);

  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;

  const std::string& filename() const { return filename_; }

  // Python's repr of a float.
  static std::string format_float(double v);

 private:
  std::string filename_;
  std::string separator_;
  bool append_;
  bool write_header_ = true;
  std::ofstream file_;
  std::optional<std::vector<std::string>> keys_;
};

}  // namespace keel::keras
