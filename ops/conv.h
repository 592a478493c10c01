// 2-D convolution, channels-last at the API (NHWC, Keras's default), on oneDNN (ops/conv.cpp).
//
//   Tensor y = ops::conv2d(x, kernel, bias, ops::Conv2DParams().strides(2, 2).padding("same"));
//
// kernel is Keras's layout [kh, kw, in, out]; bias [out] or undefined. Bias and activations whose
// derivative follows from the output (relu, sigmoid, tanh, elu, exponential, softplus) are fused into the
// oneDNN convolution; the others (softmax, gelu, swish, softsign) run as ops::activate after it.
#pragma once

#include <string>

#include "keel/graph/tensor.h"
#include "keel/ops/activation.h"

namespace keel::ops {

enum class Padding { valid, same };
Padding padding_from_name(const std::string& name);  // "valid" / "same"; others throw quoting the name

struct Conv2DParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding pad = Padding::valid;
  Activation act = Activation::linear;
  Conv2DParams& strides(int64_t h, int64_t w) { stride_h = h; stride_w = w; return *this; }
  Conv2DParams& dilation(int64_t h, int64_t w) { dilation_h = h; dilation_w = w; return *this; }
  Conv2DParams& padding(Padding p) { pad = p; return *this; }
  Conv2DParams& padding(const std::string& p) { pad = padding_from_name(p); return *this; }
  Conv2DParams& activation(Activation a) { act = a; return *this; }
};

// Output spatial size and the (before, after) padding Keras/TF use for `same` and `valid`.
struct ConvGeometry {
  int64_t out = 0, pad_before = 0, pad_after = 0;
};
ConvGeometry conv_geometry(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, Padding pad);

Tensor conv2d(const Tensor& x, const Tensor& kernel, const Tensor& bias, const Conv2DParams& p = {});

}  // namespace keel::ops
