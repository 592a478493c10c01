// Internal to ops/: elementwise maps over same-shape tensors, used by forwards and gradients. Outputs
// start uninitialized: every element is written.
//
//   Tensor y = detail::map1(x, "exp", [](auto v) { return std::exp(v); });          // floating dtypes
//   Tensor gx = detail::map2(g, y, "exp", [](auto g, auto y) { return g * y; });    // same shape and dtype
#pragma once

#include <type_traits>

#include "keel/graph/tensor.h"
#include "keel/ops/detail/dnnl_kernels.h"
#include "keel/ops/detail/loops.h"

namespace keel::ops::detail {

// y[i] = f(x[i]) for floating x (or any numeric dtype but bool with numeric = true).
template <class F>
Tensor map1(const Tensor& x, const char* op, F&& f, bool numeric = false) {
  KEEL_CHECK(x.defined(), op, ": input is undefined");
  Tensor y = Tensor::uninitialized(x.shape(), x.dtype());
  auto body = [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      KEEL_FAIL(op, ": dtype bool is not supported");
    } else {
      const T* px = x.data<T>();
      T* py = y.data<T>();
      simd_for(x.numel(), [&](int64_t i) { py[i] = static_cast<T>(f(px[i])); });
    }
  };
  if (numeric) dispatch_numeric(x.dtype(), op, body);
  else dispatch_floating(x.dtype(), op, body);
  return y;
}

// out[i] = f(a[i], b[i]) for same-shape floating tensors of one dtype.
template <class F>
Tensor map2(const Tensor& a, const Tensor& b, const char* op, F&& f) {
  Tensor out = Tensor::uninitialized(a.shape(), a.dtype());
  dispatch_floating(a.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    simd_for(a.numel(), [&](int64_t i) { po[i] = static_cast<T>(f(pa[i], pb[i])); });
  });
  return out;
}

// out[i] = f(a[i], b[i], c[i]) for same-shape floating tensors of one dtype.
template <class F>
Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c, const char* op, F&& f) {
  Tensor out = Tensor::uninitialized(a.shape(), a.dtype());
  dispatch_floating(a.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* pc = c.data<T>();
    T* po = out.data<T>();
    simd_for(a.numel(), [&](int64_t i) { po[i] = static_cast<T>(f(pa[i], pb[i], pc[i])); });
  });
  return out;
}

// map1 with a oneDNN eltwise primitive for large f32 inputs.
template <class F>
Tensor eltwise(const Tensor& x, const char* op, Eltwise alg, float alpha, float beta, F&& f, bool numeric = false) {
  const bool cheap = alg == Eltwise::relu || alg == Eltwise::abs || alg == Eltwise::square || alg == Eltwise::clip ||
                     alg == Eltwise::linear;
  if (x.defined() && x.dtype() == DType::f32 && x.numel() >= (cheap ? kDnnlMin : kDnnlTranscendentalMin)) {
    Tensor y = Tensor::uninitialized(x.shape(), x.dtype());
    dnnl_eltwise(alg, x, y, alpha, beta);
    return y;
  }
  return map1(x, op, f, numeric);
}

// x / y for a nonzero y, any numeric T. Integers truncate as C++ does, except that the one quotient
// that overflows (the most negative value over -1, which traps on x86) wraps to the most negative
// value, as NumPy and the other integer ops do, instead of killing the process with SIGFPE.
template <class T>
T divide(T x, T y) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    if (y == T(-1)) return static_cast<T>(U(0) - static_cast<U>(x));
  }
  return static_cast<T>(x / y);
}

}  // namespace keel::ops::detail
