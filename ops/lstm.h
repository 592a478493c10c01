// LSTM over a whole sequence with Keras's weight layout and gate order (ops/lstm.cpp).
//
//   auto r = ops::lstm(x, kernel, recurrent_kernel, bias, {}, {}, /*return_sequences=*/false);
//   r.output;  // [N, units] (last) or [N, T, units]; r.h, r.c final states [N, units]
//
// x [N, T, in] batch-major; kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u] or undefined;
// gates i, f, c, o; activation tanh, recurrent activation sigmoid (Keras's defaults).
//
// mask (optional, bool [N, T]) as Keras's RNN masking (backend.rnn): at a step whose mask is false the
// states h and c carry over unchanged (and get no gradient from the step), and the output is the previous
// step's output (zeros before the first valid step), or zeros with zero_output_for_mask (Keras sets it
// for Bidirectional with return_sequences). The last output is the output of the last step.
#pragma once

#include "keel/graph/tensor.h"

namespace keel::ops {

struct LSTMResult {
  Tensor output, h, c;
};

LSTMResult lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                const Tensor& h0, const Tensor& c0, bool return_sequences, const Tensor& mask = Tensor(),
                bool zero_output_for_mask = false);

}  // namespace keel::ops
