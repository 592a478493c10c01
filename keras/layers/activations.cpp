#include "keel/keras/layers/activations.h"

#include "keel/graph/error.h"

namespace keel::keras::activations {

ops::Activation get(const std::string& name, const std::string& who) {
  try {
    return ops::activation_from_name(name);
  } catch (const Error& e) {
    if (who.empty()) throw;
    KEEL_FAIL(who, ": ", e.what());
  }
}

std::string serialize(ops::Activation a) { return ops::activation_name(a); }

}  // namespace keel::keras::activations
