// Elementwise arithmetic with NumPy broadcasting, each forward with its gradient.
//
// Small tensors take a plain loop with no oneDNN and no string building; same-shape inputs skip the
// broadcast plan. Large f32 tensors go through oneDNN binary/eltwise primitives.
#include "keel/ops/elementwise.h"

#include <cmath>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/dnnl_kernels.h"
#include "keel/ops/detail/map.h"
#include "keel/ops/reduce.h"

namespace keel::ops {

using detail::Binary;
using detail::Eltwise;

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    KEEL_CHECK(da == db || da == 1 || db == 1, op, ": ", shape_str(a), " and ", shape_str(b),
               ": shapes do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  KEEL_CHECK(a.defined() && b.defined(), op, ": input is undefined");
  KEEL_CHECK(a.dtype() == b.dtype(), op, ": ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()),
             ": dtypes differ");
}

// out = f(a, b) with broadcasting; O is the output element type (T, or bool for comparisons).
template <class O, class T, class F>
void binary_kernel(const Tensor& a, const Tensor& b, Tensor& out, const char* op, F f) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  O* po = static_cast<O*>(out.raw_data());
  const int64_t n = out.numel();
  if (n == 0) return;
  if (a.shape() == b.shape()) {
    if (n == 1) {
      po[0] = f(pa[0], pb[0]);
      return;
    }
    detail::parallel_chunks(n, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  const detail::BroadcastPlan p = detail::broadcast_plan(out.shape(), {&a.shape(), &b.shape()}, op);
  const int64_t inner = p.inner(), sa = p.strides[0][p.rank - 1], sb = p.strides[1][p.rank - 1];
  detail::for_each_row(p, [&](int64_t, const int64_t* offs) {
    O* o = po + offs[3];
    const T* x = pa + offs[0];
    const T* y = pb + offs[1];
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) o[i] = f(x[i], y[i]);
    } else if (sb == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < inner; ++i) o[i] = f(x[i * sa], yv);
    } else if (sa == 0) {
      const T xv = *x;
      for (int64_t i = 0; i < inner; ++i) o[i] = f(xv, y[i * sb]);
    } else {
      for (int64_t i = 0; i < inner; ++i) o[i] = f(x[i * sa], y[i * sb]);
    }
  });
}

enum class Kind { add, sub, mul, div, pow, max, min };

template <class T>
T apply(Kind k, T x, T y) {
  switch (k) {
    case Kind::add: return static_cast<T>(x + y);
    case Kind::sub: return static_cast<T>(x - y);
    case Kind::mul: return static_cast<T>(x * y);
    case Kind::div: return detail::divide(x, y);
    case Kind::pow: return static_cast<T>(std::pow(x, y));
    case Kind::max: return x >= y || x != x ? x : y;
    case Kind::min: return x <= y || x != x ? x : y;
  }
  return x;
}

Tensor arith_forward(const Tensor& a, const Tensor& b, Kind kind, const char* op) {
  check_pair(a, b, op);
  const DType dt = a.dtype();
  const Shape& a_shape = a.shape();
  Tensor out = a_shape == b.shape() ? Tensor::uninitialized(a_shape, dt)
                                    : Tensor::uninitialized(broadcast_shapes(a_shape, b.shape(), op), dt);
  // oneDNN's binary max/min return the other operand for NaN; the plain kernels propagate it.
  if (dt == DType::f32 && kind != Kind::pow && kind != Kind::max && kind != Kind::min &&
      out.numel() >= detail::kDnnlMin && out.shape() == a_shape) {
    static constexpr Binary algs[] = {Binary::add, Binary::sub, Binary::mul, Binary::div, Binary::add,
                                      Binary::max, Binary::min};
    detail::dnnl_binary(algs[static_cast<int>(kind)], a, b, out);
    return out;
  }
  switch (dt) {
    case DType::f32: {
      // The common case, written out so that the switch on `kind` sits outside the loop.
      switch (kind) {
        case Kind::add: binary_kernel<float, float>(a, b, out, op, [](float x, float y) { return x + y; }); break;
        case Kind::sub: binary_kernel<float, float>(a, b, out, op, [](float x, float y) { return x - y; }); break;
        case Kind::mul: binary_kernel<float, float>(a, b, out, op, [](float x, float y) { return x * y; }); break;
        case Kind::div: binary_kernel<float, float>(a, b, out, op, [](float x, float y) { return x / y; }); break;
        default: binary_kernel<float, float>(a, b, out, op, [kind](float x, float y) { return apply(kind, x, y); });
      }
      break;
    }
    case DType::boolean:
    case DType::string: KEEL_FAIL(op, ": dtype ", dtype_name(dt), " is not supported");
    default:
      dispatch_numeric(dt, op, [&](auto z) {
        using T = decltype(z);
        if constexpr (!std::is_same_v<T, bool>) {
          if constexpr (std::is_integral_v<T>) {
            if (kind == Kind::div) {
              const T* pb = b.data<T>();
              for (int64_t i = 0; i < b.numel(); ++i)
                KEEL_CHECK(pb[i] != 0, op, ": integer division by zero");
            }
            // As TensorFlow and torch: the result is a fraction that truncation would silently turn into 0.
            if constexpr (std::is_signed_v<T>) {
              if (kind == Kind::pow) {
                const T* pb = b.data<T>();
                for (int64_t i = 0; i < b.numel(); ++i)
                  KEEL_CHECK(pb[i] >= 0, op, ": integers to negative integer powers are not allowed (exponent ",
                             +pb[i], " in ", shape_str(b.shape()), " ", dtype_name(dt), ")");
              }
            }
          }
          binary_kernel<T, T>(a, b, out, op, [kind](T x, T y) { return apply(kind, x, y); });
        }
      });
  }
  return out;
}

// Reduces a broadcast gradient to the input's shape (a no-op when shapes match).
Tensor to_shape(const Tensor& g, const Shape& s) { return g.shape() == s ? g : sum_to(g, s); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = arith_forward(a, b, Kind::add, "add");
  if (should_record({a, b})) {
    if (a.shape() == b.shape())
      record("add", {a, b}, out, [](const Tensor& g) { return std::vector<Tensor>{g, g}; });
    else
      record("add", {a, b}, out, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
        return std::vector<Tensor>{to_shape(g, sa), to_shape(g, sb)};
      });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = arith_forward(a, b, Kind::sub, "sub");
  if (should_record({a, b}))
    record("sub", {a, b}, out, [sa = a.shape(), sb = b.shape(), rb = b.requires_grad()](const Tensor& g) {
      return std::vector<Tensor>{to_shape(g, sa), rb ? to_shape(neg(g), sb) : Tensor()};
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = arith_forward(a, b, Kind::mul, "mul");
  if (should_record({a, b})) {
    const bool ra = a.requires_grad(), rb = b.requires_grad();
    record("mul", {a, b}, out,
           [ad = rb ? SavedTensor(a) : SavedTensor(), bd = ra ? SavedTensor(b) : SavedTensor(), ra, rb, sa = a.shape(),
            sb = b.shape()](const Tensor& g) {
             return std::vector<Tensor>{ra ? to_shape(mul(g, bd), sa) : Tensor(),
                                        rb ? to_shape(mul(g, ad), sb) : Tensor()};
           });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = arith_forward(a, b, Kind::div, "div");
  if (should_record({a, b})) {
    const bool ra = a.requires_grad(), rb = b.requires_grad();
    record("div", {a, b}, out,
           [bd = SavedTensor(b), od = rb ? SavedTensor(out) : SavedTensor(), ra, rb, sa = a.shape(),
            sb = b.shape()](const Tensor& g) {
             Tensor gdb = div(g, bd);
             return std::vector<Tensor>{ra ? to_shape(gdb, sa) : Tensor(),
                                        rb ? to_shape(neg(mul(gdb, od)), sb) : Tensor()};
           });
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = arith_forward(a, b, Kind::pow, "pow");
  if (should_record({a, b})) {
    const bool ra = a.requires_grad(), rb = b.requires_grad();
    record("pow", {a, b}, out,
           [as = SavedTensor(a), bs = SavedTensor(b), os = SavedTensor(out), ra, rb](const Tensor& g) {
             const Tensor &ad = as, &bd = bs, &od = os;
             Tensor ga, gb;
             // d/da = b * a^(b-1); d/db = a^b * log(a) (taken as 0 where a <= 0).
             if (ra) ga = to_shape(mul(g, mul(bd, pow(ad, sub(bd, 1.0)))), ad.shape());
             if (rb) {
               Tensor la = detail::map1(ad, "pow", [](auto v) { return v > 0 ? std::log(v) : decltype(v)(0); });
               gb = to_shape(mul(g, mul(od, la)), bd.shape());
             }
             return std::vector<Tensor>{ga, gb};
           });
  }
  return out;
}

namespace {
// Gradient routing for maximum/minimum: a gets g where a >= b (maximum) or a <= b (minimum), b the rest.
Tensor extremum(const Tensor& a, const Tensor& b, Kind kind, const char* op) {
  Tensor out = arith_forward(a, b, kind, op);
  if (should_record({a, b}))
    record(op, {a, b}, out, [as = SavedTensor(a), bs = SavedTensor(b), kind](const Tensor& g) {
      const Tensor &ad = as, &bd = bs;
      // TensorFlow's MaximumGrad/MinimumGrad: a gets g where a >= b (a <= b), b the rest, so a NaN on
      // either side (where comparisons are false) sends g to b.
      Tensor to_a = kind == Kind::max ? greater_equal(ad, bd) : greater_equal(bd, ad);
      Tensor zero = Tensor::zeros({}, g.dtype());
      return std::vector<Tensor>{to_shape(where(to_a, g, zero), ad.shape()),
                                 to_shape(where(to_a, zero, g), bd.shape())};
    });
  return out;
}

enum class Cmp { eq, gt, lt, ge };

Tensor compare(const Tensor& a, const Tensor& b, Cmp cmp, const char* op) {
  check_pair(a, b, op);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op), DType::boolean);
  dispatch_numeric(a.dtype(), op, [&](auto z) {
    using T = decltype(z);
    switch (cmp) {
      case Cmp::eq: binary_kernel<bool, T>(a, b, out, op, [](T x, T y) { return x == y; }); break;
      case Cmp::gt: binary_kernel<bool, T>(a, b, out, op, [](T x, T y) { return x > y; }); break;
      case Cmp::lt: binary_kernel<bool, T>(a, b, out, op, [](T x, T y) { return x < y; }); break;
      case Cmp::ge: binary_kernel<bool, T>(a, b, out, op, [](T x, T y) { return x >= y; }); break;
    }
  });
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, Kind::max, "maximum"); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, Kind::min, "minimum"); }

Tensor equal(const Tensor& a, const Tensor& b) { return compare(a, b, Cmp::eq, "equal"); }
Tensor greater(const Tensor& a, const Tensor& b) { return compare(a, b, Cmp::gt, "greater"); }
Tensor less(const Tensor& a, const Tensor& b) { return compare(a, b, Cmp::lt, "less"); }
Tensor greater_equal(const Tensor& a, const Tensor& b) { return compare(a, b, Cmp::ge, "greater_equal"); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  KEEL_CHECK(cond.defined(), "where: condition is undefined");
  check_pair(a, b, "where");
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  const Tensor c = cond.dtype() == DType::boolean ? cond : cond.to(DType::boolean);
  Tensor out = Tensor::empty(shape, a.dtype());
  if (out.numel() > 0) {
    const detail::BroadcastPlan p = detail::broadcast_plan(shape, {&c.shape(), &a.shape(), &b.shape()}, "where");
    const int64_t inner = p.inner(), sc = p.strides[0][p.rank - 1], sa = p.strides[1][p.rank - 1],
                  sb = p.strides[2][p.rank - 1];
    dispatch_numeric(a.dtype(), "where", [&](auto z) {
      using T = decltype(z);
      const bool* pc = c.data<bool>();
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* po = out.data<T>();
      detail::for_each_row(p, [&](int64_t, const int64_t* offs) {
        const bool* cc = pc + offs[0];
        const T* x = pa + offs[1];
        const T* y = pb + offs[2];
        T* o = po + offs[3];
        for (int64_t i = 0; i < inner; ++i) o[i] = cc[i * sc] ? x[i * sa] : y[i * sb];
      });
    });
  }
  if (should_record({a, b}))
    record("where", {cond, a, b}, out, [c = SavedTensor(c), sa = a.shape(), sb = b.shape()](const Tensor& g) {
      Tensor zero = Tensor::zeros({}, g.dtype());
      return std::vector<Tensor>{Tensor(), to_shape(where(c, g, zero), sa), to_shape(where(c, zero, g), sb)};
    });
  return out;
}

}  // namespace keel::ops
