// Elementwise arithmetic with NumPy broadcasting, each with its gradient (ops/elementwise.cpp).
//
//   Tensor c = ops::add(a, b);            // [32,10] + [10] -> [32,10]
//   Tensor d = ops::clip(ops::exp(c), 0, 1);
//
// Binary ops require equal dtypes (the error names the op and both dtypes) and broadcastable shapes
// (the error names the op and both shapes). Gradients of broadcast inputs are reduced with sum_to.
#pragma once

#include "keel/graph/tensor.h"

namespace keel::ops {

// Result shape of broadcasting a and b; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient goes to a where a >= b, else b (so b for NaN)
Tensor minimum(const Tensor& a, const Tensor& b);  // gradient goes to a where a <= b, else b (so b for NaN)

// Scalar right-hand sides (the scalar takes the tensor's dtype).
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor pow(const Tensor& a, double exponent);

Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor square(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor clip(const Tensor& a, double low, double high);  // gradient 1 strictly inside [low, high]
// cond is bool (or any numeric: nonzero = true); a, b, cond broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons (not differentiable), result dtype bool.
Tensor equal(const Tensor& a, const Tensor& b);
Tensor greater(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor greater_equal(const Tensor& a, const Tensor& b);

// Converts dtype; differentiable between floating dtypes.
Tensor cast(const Tensor& a, DType dtype);

}  // namespace keel::ops

namespace keel {
inline Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return ops::div(a, b); }
inline Tensor operator-(const Tensor& a) { return ops::neg(a); }
}  // namespace keel
