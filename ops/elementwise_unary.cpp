// Unary elementwise ops, scalar right-hand sides, clip and cast, each with its gradient.
#include <cmath>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/map.h"
#include "keel/ops/elementwise.h"

namespace keel::ops {

using detail::Eltwise;

namespace {

enum class Scalar { add, sub, mul, div, pow };

Tensor scalar_forward(const Tensor& a, double s, Scalar kind, const char* op) {
  KEEL_CHECK(a.defined(), op, ": input is undefined");
  if (a.dtype() == DType::f32 && a.numel() >= detail::kDnnlMin && kind != Scalar::div) {
    Tensor y = Tensor::uninitialized(a.shape(), a.dtype());
    const float fs = static_cast<float>(s);
    switch (kind) {
      case Scalar::add: detail::dnnl_eltwise(Eltwise::linear, a, y, 1.f, fs); break;
      case Scalar::sub: detail::dnnl_eltwise(Eltwise::linear, a, y, 1.f, -fs); break;
      case Scalar::mul: detail::dnnl_eltwise(Eltwise::linear, a, y, fs, 0.f); break;
      default: detail::dnnl_eltwise(Eltwise::pow, a, y, 1.f, fs); break;
    }
    return y;
  }
  Tensor y;
  dispatch_numeric(a.dtype(), op, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bool>) {
      KEEL_FAIL(op, ": dtype bool is not supported");
    } else {
      if constexpr (std::is_integral_v<T>) {
        // The scalar takes the tensor's dtype; NaN or a value past its range has no such value.
        KEEL_CHECK(kind == Scalar::pow || fits_dtype<T>(s), op, ": scalar ", s, " does not fit the input's dtype ", dtype_name(a.dtype()), " (input ",
                   shape_str(a.shape()), ")");
        KEEL_CHECK(kind != Scalar::pow || s >= 0, op, ": integers to negative powers are not allowed (exponent ", s,
                   ", input ", shape_str(a.shape()), " ", dtype_name(a.dtype()), ")");
      }
      const T v = kind == Scalar::pow ? T(0) : static_cast<T>(s);
      if constexpr (std::is_integral_v<T>) KEEL_CHECK(kind != Scalar::div || v != 0, op, ": integer division by zero");
      switch (kind) {
        case Scalar::add: y = detail::map1(a, op, [v](T x) { return x + v; }, true); break;
        case Scalar::sub: y = detail::map1(a, op, [v](T x) { return x - v; }, true); break;
        case Scalar::mul: y = detail::map1(a, op, [v](T x) { return x * v; }, true); break;
        case Scalar::div: y = detail::map1(a, op, [v](T x) { return detail::divide(x, v); }, true); break;
        case Scalar::pow: y = detail::map1(a, op, [s](T x) { return std::pow(x, s); }, true); break;
      }
    }
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, Scalar::add, "add");
  if (should_record({a})) record("add", {a}, out, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}
Tensor sub(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, Scalar::sub, "sub");
  if (should_record({a})) record("sub", {a}, out, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}
Tensor mul(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, Scalar::mul, "mul");
  if (should_record({a})) record("mul", {a}, out, [b](const Tensor& g) { return std::vector<Tensor>{mul(g, b)}; });
  return out;
}
Tensor div(const Tensor& a, double b) {
  Tensor out = scalar_forward(a, b, Scalar::div, "div");
  if (should_record({a})) record("div", {a}, out, [b](const Tensor& g) { return std::vector<Tensor>{div(g, b)}; });
  return out;
}
Tensor pow(const Tensor& a, double e) {
  Tensor out = scalar_forward(a, e, Scalar::pow, "pow");
  if (should_record({a}))
    record("pow", {a}, out, [ad = SavedTensor(a), e](const Tensor& g) {
      if (e == 0) return std::vector<Tensor>{Tensor::zeros(g.shape(), g.dtype())};
      return std::vector<Tensor>{
          detail::map2(g, ad, "pow", [e](auto gv, auto x) { return gv * e * std::pow(x, e - 1); })};
    });
  return out;
}

Tensor neg(const Tensor& a) {
  Tensor out = detail::eltwise(a, "neg", Eltwise::linear, -1.f, 0.f, [](auto x) { return -x; }, true);
  if (should_record({a})) record("neg", {a}, out, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor exp(const Tensor& a) {
  Tensor out = detail::eltwise(a, "exp", Eltwise::exp, 0.f, 0.f, [](auto x) { return std::exp(x); });
  if (should_record({a}))
    record("exp", {a}, out, [y = SavedTensor(out)](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, y, "exp", [](auto gv, auto yv) { return gv * yv; })};
    });
  return out;
}

Tensor log(const Tensor& a) {
  Tensor out = detail::eltwise(a, "log", Eltwise::log, 0.f, 0.f, [](auto x) { return std::log(x); });
  if (should_record({a}))
    record("log", {a}, out, [x = SavedTensor(a)](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, x, "log", [](auto gv, auto xv) { return gv / xv; })};
    });
  return out;
}

Tensor sqrt(const Tensor& a) {
  Tensor out = detail::eltwise(a, "sqrt", Eltwise::sqrt, 0.f, 0.f, [](auto x) { return std::sqrt(x); });
  if (should_record({a}))
    record("sqrt", {a}, out, [y = SavedTensor(out)](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, y, "sqrt", [](auto gv, auto yv) { return gv / (2 * yv); })};
    });
  return out;
}

Tensor square(const Tensor& a) {
  Tensor out = detail::eltwise(a, "square", Eltwise::square, 0.f, 0.f, [](auto x) { return x * x; }, true);
  if (should_record({a}))
    record("square", {a}, out, [x = SavedTensor(a)](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, x, "square", [](auto gv, auto xv) { return 2 * xv * gv; })};
    });
  return out;
}

Tensor abs(const Tensor& a) {
  Tensor out = detail::eltwise(a, "abs", Eltwise::abs, 0.f, 0.f, [](auto x) { return x < 0 ? -x : x; }, true);
  if (should_record({a}))
    record("abs", {a}, out, [x = SavedTensor(a)](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, x, "abs", [](auto gv, auto xv) {
        return xv > 0 ? gv : xv < 0 ? -gv : decltype(gv)(0);
      })};
    });
  return out;
}

Tensor clip(const Tensor& a, double low, double high) {
  KEEL_CHECK(low <= high, "clip: low ", low, " is greater than high ", high);
  Tensor out = detail::eltwise(a, "clip", Eltwise::clip, static_cast<float>(low), static_cast<float>(high),
                               [low, high](auto x) {
                                 using T = decltype(x);
                                 const T lo = static_cast<T>(low), hi = static_cast<T>(high);
                                 return x < lo ? lo : x > hi ? hi : x;
                               }, true);
  if (should_record({a}))
    record("clip", {a}, out, [x = SavedTensor(a), low, high](const Tensor& g) {
      return std::vector<Tensor>{detail::map2(g, x, "clip", [low, high](auto gv, auto xv) {
        return xv > low && xv < high ? gv : decltype(gv)(0);
      })};
    });
  return out;
}

Tensor cast(const Tensor& a, DType dtype) {
  KEEL_CHECK(a.defined(), "cast: input is undefined");
  if (a.dtype() == dtype) return a;
  Tensor out = a.to(dtype);
  if (is_floating(a.dtype()) && is_floating(dtype) && should_record({a}))
    record("cast", {a}, out, [from = a.dtype()](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  return out;
}

}  // namespace keel::ops
