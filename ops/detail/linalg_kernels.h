// Internal kernels behind ops/linalg.cpp (not recorded, no autodiff): batched matrix products on
// oneDNN (f32) or a blocked OpenMP kernel (f64), bias add, and the activations dense applies, each
// with its gradient computed from the saved output (or the pre-activation where the output does not
// determine it).
//
//   MatmulPlan p = plan_matmul(a.shape(), b.shape(), ta, tb, "matmul");   // checks, output shape
//   Tensor c = matmul_kernel(a, b, p);
#pragma once

#include <vector>

#include "keel/graph/tensor.h"
#include "keel/ops/activation.h"

namespace keel::ops::linalg_detail {

// Shapes of one (batched) product op(a)·op(b), checked.
struct MatmulPlan {
  bool ta = false, tb = false;
  int64_t m = 0, k = 0, n = 0;
  Shape batch;          // broadcast batch dims of the result
  Shape a_batch, b_batch;  // the inputs' own batch dims, left-padded with 1 to batch.size()
  Shape out;            // batch + [m, n]
  int64_t batch_count() const;
};

// Throws keel::Error naming `op` and both shapes on rank, inner-dimension or batch mismatch.
MatmulPlan plan_matmul(const Shape& a, const Shape& b, bool ta, bool tb, const char* op);

// op(a)·op(b) for f32 (oneDNN, primitive cached) or f64 (plain kernel). `bias` ([n], may be
// undefined) and `fused` (an activation oneDNN has as a post-op, or linear) apply to f32 only.
Tensor matmul_kernel(const Tensor& a, const Tensor& b, const MatmulPlan& p, const Tensor& bias = Tensor(),
                     Activation fused = Activation::linear);

// True when dense can fuse `a` into the f32 matmul as a oneDNN eltwise post-op.
bool fusable(Activation a);
// True when x, w and b (f32; b may be undefined) hold no NaN or infinity, so a oneDNN eltwise post-op
// gives what the plain activation gives. The post-ops are max/min and exp approximations that turn NaN
// into 0 or inf (relu(NaN) = 0, where TensorFlow gives NaN); a NaN pre-activation comes only from a
// non-finite input or from an overflow inside the product. Callers fuse only when this holds.
bool post_op_safe(const Tensor& x, const Tensor& w, const Tensor& b);
// True when the gradient of `a` can be computed from its output alone.
bool grad_from_output(Activation a);

// Sums a [batch..., r, c] gradient over broadcast batch dims down to `shape` (same trailing [r, c]).
Tensor sum_batches_to(const Tensor& g, const Shape& shape);
// In place: rows of y2d [rows, n] += bias [n].
void add_bias_(Tensor& y2d, const Tensor& bias);
// Column sums of g2d [rows, n] -> [n].
Tensor column_sums(const Tensor& g2d);

// In place: y = act(y); softmax over the last axis.
void activate_(Tensor& y, Activation a);
// Gradient w.r.t. the pre-activation: from the output y when grad_from_output(a), else from the
// pre-activation z (pass the one that is needed; the other may be undefined).
Tensor activation_grad(const Tensor& g, const Tensor& y, const Tensor& z, Activation a);

}  // namespace keel::ops::linalg_detail
