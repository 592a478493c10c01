// Activations, each with its gradient (ops/activation.cpp).
//
//   Tensor p = ops::softmax(logits, -1);
//   Tensor y = ops::activate(x, ops::activation_from_name("relu"));   // Keras names
#pragma once

#include <string>

#include "keel/graph/tensor.h"

namespace keel::ops {

enum class Activation { linear, relu, sigmoid, tanh, softmax, elu, softplus, softsign, swish, gelu, exponential };

// Keras names: "linear" (also "" and "none"), "relu", "sigmoid", "tanh", "softmax", "elu", "softplus",
// "softsign", "swish" ("silu"), "gelu", "exponential". Unknown names throw, quoting the name and the known ones.
Activation activation_from_name(const std::string& name);
const char* activation_name(Activation a);

Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor softplus(const Tensor& x);
Tensor softsign(const Tensor& x);
Tensor swish(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form, Keras's default approximate=False
// Applies `a` (softmax over the last axis).
Tensor activate(const Tensor& x, Activation a);

}  // namespace keel::ops
