// matmul and dense, forward and gradient. Kernels live in ops/linalg_kernels.cpp (oneDNN f32,
// blocked f64) and ops/linalg_activation.cpp (dense's activations when not fused).
//
// Gradients, with op(X) = X or Xᵀ per the transpose flags:
//   d op(A) = dC · op(B)ᵀ,  d op(B) = op(A)ᵀ · dC, each written as one matmul with transpose flags
//   and summed over broadcast batch dims. dense: dz = act'(·) ⊙ dy, dx = dz·Wᵀ, dW = xᵀ·dz, db = Σrows dz.
#include "keel/ops/linalg.h"

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/linalg_kernels.h"

namespace keel::ops {

using namespace linalg_detail;

namespace {

void check_dtypes(const char* op, const Tensor& a, const Tensor& b) {
  KEEL_CHECK(a.defined() && b.defined(), op, ": undefined operand");
  KEEL_CHECK(a.dtype() == b.dtype(), op, ": ", shape_str(a.shape()), " ", dtype_name(a.dtype()), " x ",
             shape_str(b.shape()), " ", dtype_name(b.dtype()), ": dtypes differ");
  KEEL_CHECK(a.dtype() == DType::f32 || a.dtype() == DType::f64, op, ": ", shape_str(a.shape()), " x ",
             shape_str(b.shape()), ": dtype ", dtype_name(a.dtype()), " is not supported (f32 or f64)");
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  check_dtypes("matmul", a, b);
  const MatmulPlan plan = plan_matmul(a.shape(), b.shape(), transpose_a, transpose_b, "matmul");
  Tensor out = matmul_kernel(a, b, plan);
  if (should_record({a, b})) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    // Each gradient reads only the other operand.
    record("matmul", {a, b}, out,
           [a = need_b ? SavedTensor(a) : SavedTensor(), b = need_a ? SavedTensor(b) : SavedTensor(), ta = transpose_a,
            tb = transpose_b, a_shape = a.shape(), b_shape = b.shape()](const Tensor& g) {
             Tensor ga, gb;
             if (b.defined()) ga = sum_batches_to(ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb), a_shape);
             if (a.defined()) gb = sum_batches_to(tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false), b_shape);
             return std::vector<Tensor>{ga, gb};
           });
  }
  return out;
}

Tensor dense(const Tensor& x, const Tensor& kernel, const Tensor& bias, Activation activation) {
  check_dtypes("dense", x, kernel);
  const std::string what = "dense: " + shape_str(x.shape()) + " x " + shape_str(kernel.shape()) + ": ";
  KEEL_CHECK(kernel.dim() == 2, what, "kernel must have rank 2");
  KEEL_CHECK(x.dim() >= 1, what, "input must have rank >= 1");
  const int64_t in = kernel.size(0), units = kernel.size(1);
  KEEL_CHECK(x.size(-1) == in, what, "inner dimensions ", x.size(-1), " and ", in, " differ");
  if (bias.defined()) {
    KEEL_CHECK(bias.dtype() == kernel.dtype(), what, "bias is ", dtype_name(bias.dtype()), ", kernel is ",
               dtype_name(kernel.dtype()));
    KEEL_CHECK(bias.shape() == Shape{units}, what, "bias ", shape_str(bias.shape()), " does not match ",
               units, " units");
  }
  const int64_t rows = in == 0 ? checked_numel(Shape(x.shape().begin(), x.shape().end() - 1)) : x.numel() / in;
  const Tensor x2 = x.detach().view({rows, in});
  const MatmulPlan plan = plan_matmul(x2.shape(), kernel.shape(), false, false, "dense");
  const bool recording = should_record({x, kernel, bias});
  Shape out_shape = x.shape();
  out_shape.back() = units;

  // f32 fuses bias and the activation into the oneDNN matmul, unless the backward needs the
  // pre-activation (swish, gelu), oneDNN lacks the activation as a post-op (softmax, softsign), or an
  // input is not finite (the post-op would lose a NaN; see post_op_safe). relu is never fused: oneDNN's
  // is a max that turns NaN into 0, and one vectorized pass over the [rows, units] output costs less
  // than post_op_safe's scan of x and the kernel (rows * units against (rows + units) * in elements).
  Tensor y2, z2;
  if (x.dtype() == DType::f32 && fusable(activation) && activation != Activation::relu &&
      (!recording || grad_from_output(activation)) && post_op_safe(x2, kernel, bias)) {
    y2 = matmul_kernel(x2, kernel, plan, bias.defined() ? bias.detach() : Tensor(), activation);
  } else {
    y2 = matmul_kernel(x2, kernel, plan, bias.defined() ? bias.detach() : Tensor());
    if (activation != Activation::linear) {
      if (recording && !grad_from_output(activation)) z2 = y2.clone();
      activate_(y2, activation);
    }
  }
  Tensor out = y2.view(out_shape);
  if (recording) {
    const bool need_x = x.requires_grad(), need_k = kernel.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const bool keep_y = activation != Activation::linear && grad_from_output(activation);
    record("dense", {x, kernel, bias}, out,
           [x2 = need_k ? SavedTensor(x2) : SavedTensor(), k = need_x ? SavedTensor(kernel) : SavedTensor(), y2 = keep_y ? SavedTensor(y2) : SavedTensor(), z2,
            activation, need_b, x_shape = x.shape(), rows, units](const Tensor& g) {
             const Tensor dz = activation_grad(g.view({rows, units}), y2, z2, activation);
             Tensor gx, gk, gb;
             if (k.defined()) gx = matmul(dz, k, false, true).view(x_shape);
             if (x2.defined()) gk = matmul(x2, dz, true, false);
             if (need_b) gb = column_sums(dz);
             return std::vector<Tensor>{gx, gk, gb};
           });
  }
  return out;
}

}  // namespace keel::ops
