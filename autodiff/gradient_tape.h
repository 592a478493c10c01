// GradientTape, TensorFlow style, over the same engine as backward().
//
//   keel::GradientTape tape;                      // records while alive (recording on)
//   Tensor loss = ops::mean(ops::square(ops::sub(model(x), y)));
//   auto grads = tape.gradient(loss, {w.value(), b.value()});
//
// Variables' values (leaves that require grad) are watched automatically; tape.watch(t) makes any
// other leaf tensor watched. A non-persistent tape may compute gradients once; it then frees the saved
// values of what it went through, except what another live tape on this thread recorded and may still
// need (two tapes over a shared subgraph, as in TensorFlow's DCGAN: gen_tape.gradient, then
// disc_tape.gradient).
//
// Gradients are first-order only. Where TensorFlow nests tapes for a second derivative, a tape that
// reaches the gradient a nested tape returned fails with an error saying so (never a silent zero).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "keel/graph/node.h"
#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"

namespace keel {

class GradientTape {
 public:
  explicit GradientTape(bool persistent = false);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Marks a leaf tensor as requiring a gradient while this tape lives (as tf.GradientTape.watch): when
  // the last live tape that watched it is destroyed, a tensor that did not require a gradient before
  // stops requiring one, so later ops on it record nothing and backward() leaves it alone.
  void watch(const Tensor& t);
  // Gradients of `target` w.r.t. `sources`; zeros of the source's shape where target does not depend on it.
  // Without `output_gradient`, a target of any shape is differentiated as the sum of its elements, as
  // tf.GradientTape does (backward() instead requires a scalar root, as torch does).
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Tensor>& sources,
                               const Tensor& output_gradient = Tensor());
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Variable>& sources,
                               const Tensor& output_gradient = Tensor());

 private:
  static void mark_not_differentiable(std::vector<Tensor>& grads);
  // Nodes numbered from here on were recorded while this tape was live.
  uint64_t first_sequence_nr_;
  // Leaves whose requires_grad watch() turned on (or that another live tape had turned on).
  std::vector<std::weak_ptr<TensorImpl>> watched_;
  bool persistent_;
  bool used_ = false;
  EnableGradGuard enable_;
};

}  // namespace keel
