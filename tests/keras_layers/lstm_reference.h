// The keras_layers tests' double-precision reference of Keras's LSTM (gates i, f, c, o; tanh and
// sigmoid), step by step, and their normal random tensors.
//
//   auto hs = lstm_test::reference_steps(x, lstm.get_weights(), /*backwards=*/false, h0, c0);
//   hs[b][s];  // h of batch row b after its s-th step (step T-1-s of x when backwards)
#pragma once

#include <cmath>
#include <vector>

#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"

namespace lstm_test {

inline keel::Tensor randn(keel::Shape s, uint64_t seed) {
  keel::Generator g(seed);
  return keel::Tensor::normal(std::move(s), g);
}

// x [B, T, F] f32; w = {kernel [F, 4U], recurrent_kernel [U, 4U], bias [4U]}; h0, c0 [B, U] or undefined
// (zeros).
inline std::vector<std::vector<std::vector<double>>> reference_steps(const keel::Tensor& x,
                                                                     const std::vector<keel::Tensor>& w,
                                                                     bool backwards, const keel::Tensor& h0 = {},
                                                                     const keel::Tensor& c0 = {}) {
  const int64_t B = x.size(0), T = x.size(1), F = x.size(2), U = w[1].size(0);
  const float *K = w[0].data<float>(), *R = w[1].data<float>(), *bias = w[2].data<float>();
  auto sigmoid = [](double v) { return 1 / (1 + std::exp(-v)); };
  std::vector<std::vector<std::vector<double>>> out(B);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> h(U, 0.0), c(U, 0.0);
    for (int64_t k = 0; k < U; ++k) {
      if (h0.defined()) h[k] = h0.data<float>()[b * U + k];
      if (c0.defined()) c[k] = c0.data<float>()[b * U + k];
    }
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = backwards ? T - 1 - s : s;
      std::vector<double> z(4 * U);
      for (int64_t j = 0; j < 4 * U; ++j) {
        double v = bias[j];
        for (int64_t f = 0; f < F; ++f) v += x.data<float>()[(b * T + t) * F + f] * K[f * 4 * U + j];
        for (int64_t k = 0; k < U; ++k) v += h[k] * R[k * 4 * U + j];
        z[j] = v;
      }
      for (int64_t k = 0; k < U; ++k) {
        c[k] = sigmoid(z[U + k]) * c[k] + sigmoid(z[k]) * std::tanh(z[2 * U + k]);
        h[k] = sigmoid(z[3 * U + k]) * std::tanh(c[k]);
      }
      out[b].push_back(h);
    }
  }
  return out;
}

}  // namespace lstm_test
