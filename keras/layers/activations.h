// Activation names as Keras spells them in configs.
//
//   ops::Activation a = keras::activations::get("relu");
//   keras::activations::serialize(a);   // "relu"
#pragma once

#include <string>

#include "keel/ops/activation.h"

namespace keel::keras::activations {

// "linear" (also "" and "none"), "relu", "sigmoid", "tanh", "softmax", "elu", "softplus", "softsign",
// "swish" (also "silu"), "gelu", "exponential" (the names of ops::activation_from_name). Unknown names
// throw, naming `who` (the layer, as Layer::describe() words it) when given and the known names:
// `Dense 'dense': unknown activation 'foo' (known: linear, relu, ...)`.
ops::Activation get(const std::string& name, const std::string& who = "");
// The Keras name of an activation (what get_config() writes).
std::string serialize(ops::Activation a);

}  // namespace keel::keras::activations
