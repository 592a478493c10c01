// Internal helpers for the optimizers' fused update kernels (not a public header).
//
//   GradReader<float> g(grad_ptr, info);   // g(i): the i-th gradient element, scaled and clamped
//   T* p = mutable_data<T>(var.value());
#pragma once

#include <algorithm>
#include <cstdint>

#include "keel/graph/tensor.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras::detail {

// Writable data of a tensor handle (copies of a Tensor alias the same storage).
template <class T>
T* mutable_data(const Tensor& t) {
  Tensor alias = t;
  return alias.data<T>();
}

// Reads one gradient element with Keras's clipping applied (norm scale, then value clamp).
template <class T>
struct GradReader {
  const T* g;
  T scale;
  T clip;
  bool scaled;
  bool clipped;
  GradReader(const T* grad, double grad_scale, double clipvalue)
      : g(grad), scale(static_cast<T>(grad_scale)), clip(static_cast<T>(clipvalue)),
        scaled(grad_scale != 1.0), clipped(clipvalue > 0) {}
  T operator()(int64_t i) const {
    T x = scaled ? g[i] * scale : g[i];
    return clipped ? std::min(std::max(x, -clip), clip) : x;
  }
};

}  // namespace keel::keras::detail
