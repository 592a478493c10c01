// The activations dense and conv2d apply when they are not fused into oneDNN (f64, softmax, softsign,
// or when the backward needs the pre-activation), and their gradients. Plain OpenMP loops.
#include <cmath>

#include "keel/ops/detail/linalg_kernels.h"
#include "keel/ops/detail/loops.h"

namespace keel::ops::linalg_detail {

namespace {

template <class T>
T sigmoid_of(T z) {
  if (z >= 0) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

template <class T>
T apply_one(T z, Activation a) {
  switch (a) {
    case Activation::relu: return z <= 0 ? T(0) : z;  // NaN stays NaN
    case Activation::sigmoid: return sigmoid_of(z);
    case Activation::tanh: return std::tanh(z);
    case Activation::elu: return z > 0 ? z : std::expm1(z);
    case Activation::softplus: return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
    case Activation::softsign: return z / (T(1) + std::abs(z));
    case Activation::swish: return z * sigmoid_of(z);
    case Activation::gelu: return T(0.5) * z * (T(1) + std::erf(z / std::sqrt(T(2))));
    case Activation::exponential: return std::exp(z);
    default: return z;
  }
}

// Calls f(grad) with grad(g, y) = g * d act / d z computed from the output y, for the activations
// where y determines it (g itself for the others). The switch is outside f, so a loop in f compiles
// once per activation, branch-free and vectorized (relu selects g, as TensorFlow's ReluGrad does).
template <class T, class F>
decltype(auto) with_output_grad(Activation a, F&& f) {
  switch (a) {
    case Activation::relu: return f([](T g, T y) { return y > 0 ? g : T(0); });
    case Activation::sigmoid: return f([](T g, T y) { return g * (y * (T(1) - y)); });
    case Activation::tanh: return f([](T g, T y) { return g * (T(1) - y * y); });
    case Activation::elu: return f([](T g, T y) { return y > 0 ? g : g * (y + T(1)); });
    // sigmoid(z) = 1 - exp(-softplus(z))
    case Activation::softplus: return f([](T g, T y) { return g * -std::expm1(-y); });
    case Activation::softsign: return f([](T g, T y) { return g * ((T(1) - std::abs(y)) * (T(1) - std::abs(y))); });
    case Activation::exponential: return f([](T g, T y) { return g * y; });
    default: return f([](T g, T) { return g; });
  }
}

// d act / d z, from the output y.
template <class T>
T slope_from_output(T y, Activation a) {
  return with_output_grad<T>(a, [y](auto grad) { return grad(T(1), y); });
}

// d act / d z, from the pre-activation z.
template <class T>
T slope_from_input(T z, Activation a) {
  switch (a) {
    case Activation::swish: {
      const T s = sigmoid_of(z);
      return s + z * s * (T(1) - s);
    }
    case Activation::gelu: {
      const T pdf = std::exp(T(-0.5) * z * z) / std::sqrt(T(2) * T(M_PI));
      return T(0.5) * (T(1) + std::erf(z / std::sqrt(T(2)))) + z * pdf;
    }
    default: return slope_from_output(apply_one(z, a), a);
  }
}

template <class T>
void softmax_rows(T* y, int64_t rows, int64_t n) {
#pragma omp parallel for if (rows * n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    T* row = y + r * n;
    T mx = row[0];
    for (int64_t j = 1; j < n; ++j) mx = std::max(mx, row[j]);
    T sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += row[j] = std::exp(row[j] - mx);
    for (int64_t j = 0; j < n; ++j) row[j] /= sum;
  }
}

}  // namespace

bool grad_from_output(Activation a) { return a != Activation::swish && a != Activation::gelu; }

void activate_(Tensor& y, Activation a) {
  if (a == Activation::linear || y.numel() == 0) return;
  dispatch_floating(y.dtype(), "dense activation", [&](auto zero) {
    using T = decltype(zero);
    T* p = y.data<T>();
    const int64_t n = y.numel();
    if (a == Activation::softmax) {
      const int64_t cols = y.size(-1);
      softmax_rows(p, n / cols, cols);
      return;
    }
    if (a == Activation::relu) {  // dense's f32 relu runs here, so it is one vectorized pass
      detail::simd_for(n, [p](int64_t i) { p[i] = p[i] <= 0 ? T(0) : p[i]; });  // NaN stays NaN
      return;
    }
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = apply_one(p[i], a);
  });
}

Tensor activation_grad(const Tensor& g, const Tensor& y, const Tensor& z, Activation a) {
  if (a == Activation::linear) return g;
  Tensor out = Tensor::uninitialized(g.shape(), g.dtype());  // every element is written
  dispatch_floating(g.dtype(), "dense activation gradient", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    const int64_t n = g.numel();
    if (a == Activation::softmax) {  // dz = y * (g - sum(g * y)) per row
      const T* yp = y.data<T>();
      const int64_t cols = g.size(-1), rows = cols == 0 ? 0 : n / cols;
#pragma omp parallel for if (n > 65536)
      for (int64_t r = 0; r < rows; ++r) {
        T dot = 0;
        for (int64_t j = 0; j < cols; ++j) dot += gp[r * cols + j] * yp[r * cols + j];
        for (int64_t j = 0; j < cols; ++j) o[r * cols + j] = yp[r * cols + j] * (gp[r * cols + j] - dot);
      }
      return;
    }
    if (grad_from_output(a)) {
      const T* yp = y.data<T>();
      with_output_grad<T>(a, [&](auto grad) { detail::simd_for(n, [&](int64_t i) { o[i] = grad(gp[i], yp[i]); }); });
    } else {
      const T* zp = z.data<T>();
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; ++i) o[i] = gp[i] * slope_from_input(zp[i], a);
    }
  });
  return out;
}

}  // namespace keel::ops::linalg_detail
