// Pooling, NHWC at the API, on oneDNN (ops/pool.cpp).
//
//   Tensor y = ops::max_pool2d(x, ops::Pool2DParams().pool(4, 4));   // strides default to pool size
#pragma once

#include "keel/graph/tensor.h"
#include "keel/ops/conv.h"

namespace keel::ops {

struct Pool2DParams {
  int64_t pool_h = 2, pool_w = 2;
  int64_t stride_h = 0, stride_w = 0;  // 0 = pool size (Keras's default strides=None)
  Padding pad = Padding::valid;
  Pool2DParams& pool(int64_t h, int64_t w) { pool_h = h; pool_w = w; return *this; }
  Pool2DParams& strides(int64_t h, int64_t w) { stride_h = h; stride_w = w; return *this; }
  Pool2DParams& padding(Padding p) { pad = p; return *this; }
  Pool2DParams& padding(const std::string& p) { pad = padding_from_name(p); return *this; }
};

Tensor max_pool2d(const Tensor& x, const Pool2DParams& p = {});
// Average over the valid (unpadded) elements of each window, as Keras does for `same`.
Tensor avg_pool2d(const Tensor& x, const Pool2DParams& p = {});
// [N,H,W,C] -> [N,C] (keepdims -> [N,1,1,C]).
Tensor global_avg_pool2d(const Tensor& x, bool keepdims = false);

}  // namespace keel::ops
