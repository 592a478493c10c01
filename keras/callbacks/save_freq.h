// Keras's save_freq argument of ModelCheckpoint and BackupAndRestore: "epoch", or a number of batches.
//
//   SaveFreq f = "epoch";          // f.per_epoch() == true
//   SaveFreq g = 100;              // every 100 batches: g.batches() == 100
//   SaveFreq("weekly");            // keel::Error: Unrecognized save_freq: weekly. Expected save_freq are "epoch" or integer
//
// A count must be positive (an error names it otherwise).
#pragma once

#include <cstdint>
#include <string>

namespace keel::keras {

class SaveFreq {
 public:
  SaveFreq(const char* text);         // NOLINT: implicit, so that .save_freq("epoch") reads as in Keras
  SaveFreq(const std::string& text);  // NOLINT
  SaveFreq(int64_t batches);          // NOLINT: implicit, so that .save_freq(100) reads as in Keras
  SaveFreq(int batches) : SaveFreq(static_cast<int64_t>(batches)) {}  // NOLINT

  bool per_epoch() const { return batches_ == 0; }
  int64_t batches() const { return batches_; }  // 0 when per epoch
  std::string str() const { return per_epoch() ? "epoch" : std::to_string(batches_); }
  bool operator==(const SaveFreq& o) const { return batches_ == o.batches_; }

 private:
  int64_t batches_ = 0;
};

}  // namespace keel::keras
