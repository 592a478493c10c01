#include "keel/autodiff/gradient_tape.h"

#include "keel/autodiff/backward.h"

namespace keel {

GradientTape::GradientTape(bool persistent) : persistent_(persistent) {}
GradientTape::~GradientTape() = default;

void GradientTape::watch(const Tensor& t) {
  KEEL_CHECK(t.defined(), "GradientTape::watch: tensor is undefined");
  KEEL_CHECK(t.is_leaf(), "GradientTape::watch: only leaf tensors can be watched (watch before computing with it)");
  if (!t.requires_grad()) t.set_requires_grad(true);
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources,
                                           const Tensor& output_gradient) {
  KEEL_CHECK(persistent_ || !used_, "GradientTape::gradient: a non-persistent tape can compute gradients only ",
             "once (construct it with persistent=true)");
  used_ = true;
  return grad(target, sources, output_gradient, /*retain_graph=*/persistent_, /*zeros_for_unconnected=*/true);
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Variable>& sources,
                                           const Tensor& output_gradient) {
  std::vector<Tensor> ts;
  ts.reserve(sources.size());
  for (const Variable& v : sources) ts.push_back(v.value());
  return gradient(target, ts, output_gradient);
}

}  // namespace keel
