// Shape and indexing ops, each with its gradient (ops/shape_ops.cpp, ops/index_ops.cpp).
//
//   ops::reshape(x, {-1, 784});  ops::transpose(w);  ops::permute(x, {0, 3, 1, 2});
//   ops::slice(x, /*axis=*/0, 10, 20);  ops::reverse(x, 1);  ops::concat({a, b}, 1);  ops::gather(table, ids, 0);
#pragma once

#include <vector>

#include "keel/graph/tensor.h"

namespace keel::ops {

Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed; shares storage
Tensor flatten(const Tensor& x);                      // [N, ...] -> [N, prod(...)]
Tensor expand_dims(const Tensor& x, int64_t axis);
Tensor squeeze(const Tensor& x, const std::vector<int64_t>& axes = {});
Tensor transpose(const Tensor& x);                    // reverses the last two axes (rank >= 2)
Tensor permute(const Tensor& x, const std::vector<int64_t>& perm);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t stop, int64_t step = 1);
// x with the order of its entries along `axis` reversed (tf.reverse on one axis); gradient: reversed back.
Tensor reverse(const Tensor& x, int64_t axis);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis = 0);
// Rows of `x` along `axis` picked by integer `indices` (i32/i64, any shape): result shape is
// x.shape[:axis] + indices.shape + x.shape[axis+1:]. Out-of-range ids throw naming the id and the size.
// Gradient: scatter-add.
Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis = 0);
Tensor one_hot(const Tensor& indices, int64_t depth, DType dtype = DType::f32);
Tensor argmax(const Tensor& x, int64_t axis = -1);  // i64, not differentiable; the first NaN wins

}  // namespace keel::ops
