#include "keel/keras/callbacks/save_freq.h"

#include "keel/graph/error.h"

namespace keel::keras {

SaveFreq::SaveFreq(const char* text) : SaveFreq(std::string(text ? text : "")) {}

SaveFreq::SaveFreq(const std::string& text) {
  KEEL_CHECK(text == "epoch", "Unrecognized save_freq: ", text, ". Expected save_freq are \"epoch\" or integer");
}

SaveFreq::SaveFreq(int64_t batches) : batches_(batches) {
  KEEL_CHECK(batches > 0, "save_freq: a number of batches must be positive, got ", batches);
}

}  // namespace keel::keras
