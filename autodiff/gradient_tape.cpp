#include "keel/autodiff/gradient_tape.h"

#include <algorithm>
#include <cstddef>

#include "keel/autodiff/backward.h"

namespace keel {

namespace {
// The tapes live on this thread, in construction order.
thread_local std::vector<const GradientTape*> g_live_tapes;

bool holds(const std::vector<std::weak_ptr<TensorImpl>>& watched, const TensorImpl* impl) {
  for (const auto& w : watched)
    if (w.lock().get() == impl) return true;
  return false;
}
}  // namespace

GradientTape::GradientTape(bool persistent) : first_sequence_nr_(next_sequence_nr()), persistent_(persistent) {
  g_live_tapes.push_back(this);
}
GradientTape::~GradientTape() {
  for (size_t i = g_live_tapes.size(); i-- > 0;)
    if (g_live_tapes[i] == this) {
      g_live_tapes.erase(g_live_tapes.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  // Unwatch what this tape watched, unless another live tape on this thread watches it too.
  for (const auto& w : watched_) {
    const std::shared_ptr<TensorImpl> impl = w.lock();
    if (!impl || impl->grad_fn) continue;
    bool other = false;
    for (const GradientTape* t : g_live_tapes) other = other || holds(t->watched_, impl.get());
    if (!other) impl->requires_grad = false;
  }
}

void GradientTape::watch(const Tensor& t) {
  KEEL_CHECK(t.defined(), "GradientTape::watch: tensor is undefined");
  KEEL_CHECK(t.is_leaf(), "GradientTape::watch: only leaf tensors can be watched (watch before computing with it)");
  bool watched_elsewhere = false;
  for (const GradientTape* other : g_live_tapes)
    watched_elsewhere = watched_elsewhere || (other != this && holds(other->watched_, t.impl()));
  if (!t.requires_grad() || watched_elsewhere) {
    t.set_requires_grad(true);
    if (!holds(watched_, t.impl())) watched_.push_back(t.impl_ptr());
  }
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources,
                                           const Tensor& output_gradient) {
  KEEL_CHECK(persistent_ || !used_, "GradientTape::gradient: a non-persistent tape can compute gradients only ",
             "once (construct it with persistent=true)");
  used_ = true;
  // Keep what another live tape that may still compute a gradient recorded (from its first node on).
  uint64_t keep_from = UINT64_MAX;
  for (const GradientTape* t : g_live_tapes)
    if (t != this && (t->persistent_ || !t->used_)) keep_from = std::min(keep_from, t->first_sequence_nr_);
  // As tf.GradientTape: without an output gradient, a target of several elements is differentiated as
  // its sum (a seed of ones), where backward() insists on a scalar as torch does.
  Tensor seed = output_gradient;
  if (!seed.defined() && target.defined() && target.requires_grad() && target.numel() != 1)
    seed = Tensor::ones(target.shape(), target.dtype());
  std::vector<Tensor> grads = detail::grad_keeping(target, sources, seed, /*retain_graph=*/persistent_,
                                                   /*zeros_for_unconnected=*/true, keep_from);
  if (keep_from != UINT64_MAX && target.requires_grad()) mark_not_differentiable(grads);
  return grads;
}

// An outer tape that may still compute a gradient could be asked to differentiate these results
// (TensorFlow's nested tapes give second derivatives that way). Backward functions here run with
// recording off, so that path would contribute silently nothing: the results get a node that refuses.
void GradientTape::mark_not_differentiable(std::vector<Tensor>& grads) {
  for (size_t i = 0; i < grads.size(); ++i) {
    record("GradientTape::gradient", std::vector<Tensor>{}, grads[i], [i](const Tensor&) -> std::vector<Tensor> {
      KEEL_FAIL("GradientTape::gradient: a tape is differentiating through the gradient another (nested) tape ",
                "returned for its source ", i, "; keel computes first derivatives only (no second-order ",
                "gradients), so that path would contribute nothing instead of its true value");
    });
  }
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Variable>& sources,
                                           const Tensor& output_gradient) {
  std::vector<Tensor> ts;
  ts.reserve(sources.size());
  for (const Variable& v : sources) ts.push_back(v.value());
  return gradient(target, ts, output_gradient);
}

}  // namespace keel
