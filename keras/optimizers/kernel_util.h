// Internal helpers for the optimizers' fused update kernels (not a public header).
//
//   const GradReader<float> g(grad_ptr, info.grad_scale, info.clipvalue);  // g(i): scaled, clamped
//   with_bool(info.weight_decay > 0, [&](auto decay) { ... if constexpr (decay.value) ... });
//   T* p = mutable_data<T>(var.value());
//
// Kernel files compile with -fno-math-errno (CMakeLists.txt) and kernel bodies are branch-free (options become compile-time constants through with_bool) so that
// `#pragma omp simd` loops vectorize.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "keel/graph/detail/isa_dispatch.h"
#include "keel/graph/tensor.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras::detail {

// Writable data of a tensor handle (copies of a Tensor alias the same storage).
template <class T>
T* mutable_data(const Tensor& t) {
  Tensor alias = t;
  alias.bump_version();  // the caller writes in place: backward must not read these values as recorded
  return alias.data<T>();
}

// Runs body(begin, end) over [0, n) in fixed chunks of 16384 elements: OpenMP threads (static
// schedule) when there is more than one chunk. A template, so that the kernel inlines into the loop.
// Each chunk runs through keel::detail::run_best_isa (AVX-512 or AVX2 when the CPU has them).
template <class F>
void for_chunks(int64_t n, F&& body) {
  constexpr int64_t kChunk = int64_t{1} << 14;
  if (n <= kChunk) {
    if (n > 0) keel::detail::run_best_isa(body, int64_t{0}, n);
    return;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) keel::detail::run_best_isa(body, c * kChunk, std::min(n, (c + 1) * kChunk));
}

// Calls f(std::true_type{}) or f(std::false_type{}).
template <class F>
void with_bool(bool b, F&& f) {
  if (b)
    f(std::true_type{});
  else
    f(std::false_type{});
}

// Reads one gradient element with Keras's clipping applied (norm scale, then value clamp). Without
// clipping the scale is 1 and the bounds are infinite, which leaves every value (nan included) as is.
template <class T>
struct GradReader {
  const T* g;
  T scale;
  T lo;
  T hi;
  GradReader(const T* grad, double grad_scale, double clipvalue)
      : g(grad),
        scale(static_cast<T>(grad_scale)),
        lo(clipvalue > 0 ? static_cast<T>(-clipvalue) : -std::numeric_limits<T>::infinity()),
        hi(clipvalue > 0 ? static_cast<T>(clipvalue) : std::numeric_limits<T>::infinity()) {}
  T operator()(int64_t i) const {
    const T x = g[i] * scale;
    return x < lo ? lo : (x > hi ? hi : x);
  }
};

}  // namespace keel::keras::detail
