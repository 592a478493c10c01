// Activations, each with its gradient. Large f32 inputs use oneDNN eltwise/softmax primitives.
#include "keel/ops/activation.h"

#include <cmath>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/map.h"
#include "keel/ops/elementwise.h"

namespace keel::ops {

using detail::Eltwise;

namespace {

template <class T>
T stable_sigmoid(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class F>
void record_grad(const char* op, const Tensor& x, Tensor& out, const SavedTensor& saved, F f) {
  if (should_record({x}))
    record(op, {x}, out, [saved, f, op](const Tensor& g) { return std::vector<Tensor>{detail::map2(g, saved, op, f)}; });
}

}  // namespace

Tensor relu(const Tensor& x) {
  Tensor y = detail::eltwise(x, "relu", Eltwise::relu, 0.f, 0.f, [](auto v) { return v <= 0 ? decltype(v)(0) : v; });
  record_grad("relu", x, y, SavedTensor(y), [](auto g, auto yv) { return yv > 0 ? g : decltype(g)(0); });
  return y;
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = detail::eltwise(x, "sigmoid", Eltwise::logistic, 0.f, 0.f, [](auto v) { return stable_sigmoid(v); });
  record_grad("sigmoid", x, y, SavedTensor(y), [](auto g, auto yv) { return g * yv * (1 - yv); });
  return y;
}

Tensor tanh(const Tensor& x) {
  Tensor y = detail::eltwise(x, "tanh", Eltwise::tanh, 0.f, 0.f, [](auto v) { return std::tanh(v); });
  record_grad("tanh", x, y, SavedTensor(y), [](auto g, auto yv) { return g * (1 - yv * yv); });
  return y;
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor y = detail::eltwise(x, "elu", Eltwise::elu, static_cast<float>(alpha), 0.f, [alpha](auto v) {
    using T = decltype(v);
    return v > 0 ? v : static_cast<T>(alpha * std::expm1(v));
  });
  if (should_record({x}))
    record("elu", {x}, y, [xd = SavedTensor(x), yd = SavedTensor(y), alpha](const Tensor& g) {
      return std::vector<Tensor>{detail::map3(g, xd, yd, "elu", [alpha](auto gv, auto xv, auto yv) {
        return xv > 0 ? gv : gv * (yv + static_cast<decltype(gv)>(alpha));
      })};
    });
  return y;
}

Tensor softplus(const Tensor& x) {
  Tensor y = detail::eltwise(x, "softplus", Eltwise::soft_relu, 0.f, 0.f, [](auto v) {
    return (v > 0 ? v : decltype(v)(0)) + std::log1p(std::exp(-std::abs(v)));
  });
  record_grad("softplus", x, y, SavedTensor(x), [](auto g, auto xv) { return g * stable_sigmoid(xv); });
  return y;
}

Tensor softsign(const Tensor& x) {
  Tensor y = detail::map1(x, "softsign", [](auto v) { return v / (1 + std::abs(v)); });
  record_grad("softsign", x, y, SavedTensor(x), [](auto g, auto xv) {
    const auto d = 1 + std::abs(xv);
    return g / (d * d);
  });
  return y;
}

Tensor swish(const Tensor& x) {
  Tensor y = detail::eltwise(x, "swish", Eltwise::swish, 1.f, 0.f, [](auto v) { return v * stable_sigmoid(v); });
  record_grad("swish", x, y, SavedTensor(x), [](auto g, auto xv) {
    const auto s = stable_sigmoid(xv);
    return g * (s + xv * s * (1 - s));
  });
  return y;
}

Tensor gelu(const Tensor& x) {
  Tensor y = detail::eltwise(x, "gelu", Eltwise::gelu_erf, 0.f, 0.f, [](auto v) {
    using T = decltype(v);
    return static_cast<T>(0.5) * v * (1 + std::erf(v * static_cast<T>(M_SQRT1_2)));
  });
  record_grad("gelu", x, y, SavedTensor(x), [](auto g, auto xv) {
    using T = decltype(xv);
    const T cdf = static_cast<T>(0.5) * (1 + std::erf(xv * static_cast<T>(M_SQRT1_2)));
    const T pdf = std::exp(-static_cast<T>(0.5) * xv * xv) * static_cast<T>(0.3989422804014327);
    return g * (cdf + xv * pdf);
  });
  return y;
}

namespace {

struct AxisPlan {
  int64_t outer = 1, classes = 1, inner = 1;
};

AxisPlan axis_plan(const Shape& s, int64_t axis, const char* op) {
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(s.size()), op);
  AxisPlan p;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < a) p.outer *= s[d];
    else if (d == a) p.classes = s[d];
    else p.inner *= s[d];
  }
  return p;
}

// y = softmax (or log-softmax) of x along the middle axis of [outer, classes, inner].
template <class T>
void softmax_kernel(const T* x, T* y, const AxisPlan& p, bool log) {
  const int64_t C = p.classes, I = p.inner;
  detail::parallel_chunks(p.outer * I, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / I, i = k % I;
      const T* xs = x + o * C * I + i;
      T* ys = y + o * C * I + i;
      T m = xs[0];
      for (int64_t c = 1; c < C; ++c) m = std::max(m, xs[c * I]);
      T s = 0;
      for (int64_t c = 0; c < C; ++c) s += std::exp(xs[c * I] - m);
      if (log) {
        const T ls = std::log(s);
        for (int64_t c = 0; c < C; ++c) ys[c * I] = xs[c * I] - m - ls;
      } else {
        for (int64_t c = 0; c < C; ++c) ys[c * I] = std::exp(xs[c * I] - m) / s;
      }
    }
  }, C);
}

// Softmax: gx = y * (g - sum(g * y)); log-softmax: gx = g - exp(y) * sum(g).
template <class T>
void softmax_grad_kernel(const T* g, const T* y, T* gx, const AxisPlan& p, bool log) {
  const int64_t C = p.classes, I = p.inner;
  detail::parallel_chunks(p.outer * I, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t base = (k / I) * C * I + k % I;
      T s = 0;
      for (int64_t c = 0; c < C; ++c) s += log ? g[base + c * I] : g[base + c * I] * y[base + c * I];
      for (int64_t c = 0; c < C; ++c) {
        const int64_t at = base + c * I;
        gx[at] = log ? g[at] - std::exp(y[at]) * s : y[at] * (g[at] - s);
      }
    }
  }, C);
}

Tensor softmax_impl(const Tensor& x, int64_t axis, bool log, const char* op) {
  KEEL_CHECK(x.defined(), op, ": input is undefined");
  const AxisPlan p = axis_plan(x.shape(), axis, op);
  Tensor y = Tensor::uninitialized(x.shape(), x.dtype());
  if (x.numel() > 0) {
    if (x.dtype() == DType::f32 && x.numel() >= detail::kDnnlTranscendentalMin) {
      detail::dnnl_softmax(x, y, p.outer, p.classes, p.inner, log);
    } else {
      dispatch_floating(x.dtype(), op, [&](auto z) {
        using T = decltype(z);
        softmax_kernel<T>(x.data<T>(), y.data<T>(), p, log);
      });
    }
  } else {
    dispatch_floating(x.dtype(), op, [](auto) {});
  }
  if (should_record({x}))
    record(op, {x}, y, [yd = SavedTensor(y), p, log](const Tensor& g) {
      Tensor gx = Tensor::uninitialized(g.shape(), g.dtype());
      dispatch_floating(g.dtype(), "softmax backward", [&](auto z) {
        using T = decltype(z);
        softmax_grad_kernel<T>(g.data<T>(), yd.get().data<T>(), gx.data<T>(), p, log);
      });
      return std::vector<Tensor>{gx};
    });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true, "log_softmax"); }

Tensor activate(const Tensor& x, Activation a) {
  switch (a) {
    case Activation::linear: return x;
    case Activation::relu: return relu(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::tanh: return tanh(x);
    case Activation::softmax: return softmax(x, -1);
    case Activation::elu: return elu(x);
    case Activation::softplus: return softplus(x);
    case Activation::softsign: return softsign(x);
    case Activation::swish: return swish(x);
    case Activation::gelu: return gelu(x);
    case Activation::exponential: return exp(x);
  }
  KEEL_FAIL("activate: unknown activation ", static_cast<int>(a));
}

Activation activation_from_name(const std::string& name) {
  if (name.empty() || name == "linear" || name == "none") return Activation::linear;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "softmax") return Activation::softmax;
  if (name == "elu") return Activation::elu;
  if (name == "softplus") return Activation::softplus;
  if (name == "softsign") return Activation::softsign;
  if (name == "swish" || name == "silu") return Activation::swish;
  if (name == "gelu") return Activation::gelu;
  if (name == "exponential") return Activation::exponential;
  std::string known;
  for (int a = 0; a <= static_cast<int>(Activation::exponential); ++a)
    known += (a == 0 ? "" : ", ") + std::string(activation_name(static_cast<Activation>(a)));
  KEEL_FAIL("unknown activation '", name, "' (known: ", known, ")");
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::linear: return "linear";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::softmax: return "softmax";
    case Activation::elu: return "elu";
    case Activation::softplus: return "softplus";
    case Activation::softsign: return "softsign";
    case Activation::swish: return "swish";
    case Activation::gelu: return "gelu";
    case Activation::exponential: return "exponential";
  }
  return "linear";
}

}  // namespace keel::ops
