// Activation names as Keras spells them in configs.
//
//   ops::Activation a = keras::activations::get("relu");
//   keras::activations::serialize(a);   // "relu"
#pragma once

#include <string>

#include "keel/ops/activation.h"

namespace keel::keras::activations {

// "linear" (also "" and "none"), "relu", "sigmoid", "tanh", "softmax", "elu", "softplus", "softsign",
// "swish" (also "silu"), "gelu", "exponential". Unknown names throw: `Unknown activation function: 'foo'`.
ops::Activation get(const std::string& name);
// The Keras name of an activation (what get_config() writes).
std::string serialize(ops::Activation a);

}  // namespace keel::keras::activations
