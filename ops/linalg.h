// Matrix products on oneDNN (ops/linalg.cpp).
//
//   Tensor y = ops::matmul(x, w);                          // [32,784] x [784,128]
//   Tensor z = ops::dense(x, w, b, ops::Activation::relu); // fused x·W + b, relu as a post-op
#pragma once

#include "keel/graph/tensor.h"
#include "keel/ops/activation.h"

namespace keel::ops {

// 2-D [M,K]x[K,N], or batched [...,M,K]x[...,K,N] with broadcast batch dims. f32 or f64.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false, bool transpose_b = false);
// x [..., in] · kernel [in, out] (+ bias [out]) then activation. bias may be undefined.
Tensor dense(const Tensor& x, const Tensor& kernel, const Tensor& bias,
             Activation activation = Activation::linear);

}  // namespace keel::ops
