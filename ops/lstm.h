// LSTM over a whole sequence with Keras's weight layout and gate order (ops/lstm.cpp).
//
//   auto r = ops::lstm(x, kernel, recurrent_kernel, bias, {}, {}, /*return_sequences=*/false);
//   r.output;  // [N, units] (last) or [N, T, units]; r.h, r.c final states [N, units]
//
// x [N, T, in] batch-major; kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u] or undefined;
// gates i, f, c, o; activation tanh, recurrent activation sigmoid (Keras's defaults).
#pragma once

#include "keel/graph/tensor.h"

namespace keel::ops {

struct LSTMResult {
  Tensor output, h, c;
};

LSTMResult lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                const Tensor& h0, const Tensor& c0, bool return_sequences);

}  // namespace keel::ops
