#include "keel/keras/layers/activations.h"

#include <map>

#include "keel/graph/error.h"

namespace keel::keras::activations {
namespace {
const std::map<std::string, ops::Activation>& table() {
  using A = ops::Activation;
  static const std::map<std::string, A> t = {
      {"linear", A::linear}, {"", A::linear}, {"none", A::linear}, {"relu", A::relu},
      {"sigmoid", A::sigmoid}, {"tanh", A::tanh}, {"softmax", A::softmax}, {"elu", A::elu},
      {"softplus", A::softplus}, {"softsign", A::softsign}, {"swish", A::swish}, {"silu", A::swish},
      {"gelu", A::gelu}, {"exponential", A::exponential},
  };
  return t;
}
}  // namespace

ops::Activation get(const std::string& name) {
  auto it = table().find(name);
  KEEL_CHECK(it != table().end(), "Unknown activation function: '", name, "'");
  return it->second;
}

std::string serialize(ops::Activation a) {
  using A = ops::Activation;
  switch (a) {
    case A::linear: return "linear";
    case A::relu: return "relu";
    case A::sigmoid: return "sigmoid";
    case A::tanh: return "tanh";
    case A::softmax: return "softmax";
    case A::elu: return "elu";
    case A::softplus: return "softplus";
    case A::softsign: return "softsign";
    case A::swish: return "swish";
    case A::gelu: return "gelu";
    case A::exponential: return "exponential";
  }
  return "linear";
}

}  // namespace keel::keras::activations
