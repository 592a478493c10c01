// Internal to ops/: the oneDNN forward kernels the elementwise, activation and reduction ops use for large
// f32 tensors (ops/dnnl_kernels.cpp). Callers check dtype f32 and size >= kDnnlMin; each primitive is
// built once per shape through dnnl_glue::cached.
//
//   Tensor y = Tensor::empty(x.shape());
//   detail::dnnl_eltwise(detail::Eltwise::exp, x, y);
#pragma once

#include <cstdint>

#include "keel/graph/tensor.h"

namespace keel::ops::detail {

enum class Eltwise { exp, log, sqrt, square, abs, relu, tanh, logistic, elu, soft_relu, gelu_erf, swish, clip, pow,
                     linear };
enum class Binary { add, sub, mul, div, max, min };
enum class Reduce { sum, mean, max, min };

// y = f(x) with oneDNN's alpha/beta conventions (elu: alpha; clip: [alpha, beta]; pow: alpha * x^beta;
// linear: alpha * x + beta). x and y are f32 of equal shape.
void dnnl_eltwise(Eltwise alg, const Tensor& x, Tensor& y, float alpha = 0, float beta = 0);
// out = a op b where a has out's shape and b broadcasts to it (b's shape padded with leading 1s).
void dnnl_binary(Binary alg, const Tensor& a, const Tensor& b, Tensor& out);
// Softmax (or log-softmax) of x viewed as [outer, classes, inner] along the middle axis.
void dnnl_softmax(const Tensor& x, Tensor& y, int64_t outer, int64_t classes, int64_t inner, bool log);
// True when the f32 tensor x holds a NaN (a parallel scan).
bool has_nan(const Tensor& x);
// True when the f32 tensor x holds a NaN or an infinity (a parallel scan).
bool has_non_finite(const Tensor& x);
// y[k1, k2] = reduce over r of x[k1, r, k2]. oneDNN's max/min drop NaN: callers check has_nan first.
void dnnl_reduce(Reduce alg, const Tensor& x, Tensor& y, int64_t k1, int64_t r, int64_t k2);

}  // namespace keel::ops::detail
