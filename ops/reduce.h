// Reductions, each with its gradient (ops/reduce.cpp).
//
//   ops::sum(x);                         // all elements -> scalar
//   ops::mean(x, {0}, /*keepdims=*/true);
//   ops::sum_to(grad, {1, 10});          // undoes broadcasting: the shared helper for gradients
#pragma once

#include <vector>

#include "keel/graph/tensor.h"

namespace keel::ops {

// Empty `axes` means all axes. Negative axes count from the end.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdims = false);  // grad to first max
Tensor min(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdims = false);
// Sums `x` down to `shape` (which must broadcast to x.shape()); identity when equal. Differentiable.
Tensor sum_to(const Tensor& x, const Shape& shape);
// Broadcasts `x` up to `shape`. Differentiable (gradient is sum_to).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace keel::ops
