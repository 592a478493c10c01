// Reductions and the broadcasting pair sum_to / broadcast_to, each with its gradient.
//
// Every reduction is planned as [k1, r, k2] (reduce the middle) after merging adjacent axes; when the
// reduced axes are not adjacent the input is first permuted so that they are (kept axes first).
#include "keel/ops/reduce.h"

#include <cmath>
#include <limits>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/dnnl_kernels.h"
#include "keel/ops/detail/loops.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/shape_ops.h"

namespace keel::ops {

namespace {

using detail::Reduce;

struct Plan {
  Shape keep_shape;          // x.shape with reduced axes set to 1
  Shape out_shape;           // keep_shape without them unless keepdims
  std::vector<int64_t> perm; // non-empty when x must be permuted first
  int64_t k1 = 1, r = 1, k2 = 1;
};

Plan make_plan(const Shape& s, const std::vector<int64_t>& axes, bool keepdims, const char* op) {
  const int64_t rank = static_cast<int64_t>(s.size());
  std::vector<char> red(rank, axes.empty() ? 1 : 0);
  for (int64_t a : axes) red[normalize_axis(a, rank, op)] = 1;
  Plan p;
  for (int64_t d = 0; d < rank; ++d) {
    p.keep_shape.push_back(red[d] ? 1 : s[d]);
    if (!red[d] || keepdims) p.out_shape.push_back(red[d] ? 1 : s[d]);
  }
  // Groups of adjacent axes with the same status, ignoring size-1 axes.
  int groups = 0, reduced_groups = 0, last = -1;
  for (int64_t d = 0; d < rank; ++d) {
    if (s[d] == 1) continue;
    if (red[d] != last) {
      ++groups;
      reduced_groups += red[d];
      last = red[d];
    }
  }
  if (reduced_groups <= 1) {
    bool seen_reduced = false;
    for (int64_t d = 0; d < rank; ++d) {
      if (s[d] == 1) continue;
      if (red[d]) {
        p.r *= s[d];
        seen_reduced = true;
      } else if (seen_reduced) {
        p.k2 *= s[d];
      } else {
        p.k1 *= s[d];
      }
    }
    return p;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (!red[d]) {
      p.perm.push_back(d);
      p.k1 *= s[d];
    }
  for (int64_t d = 0; d < rank; ++d)
    if (red[d]) {
      p.perm.push_back(d);
      p.r *= s[d];
    }
  return p;
}

template <class T> struct Acc { using type = T; };
template <> struct Acc<float> { using type = double; };

// y[i, j] = reduce_r x[i, r, j]; each output is accumulated by one thread in index order.
template <class T>
void reduce_kernel(Reduce kind, const T* x, T* y, int64_t k1, int64_t r, int64_t k2) {
  using A = typename Acc<T>::type;
  const bool is_sum = kind == Reduce::sum || kind == Reduce::mean;
  auto combine = [kind](A acc, A v) {
    if (kind == Reduce::max) return v > acc || std::isnan(static_cast<double>(v)) ? v : acc;
    if (kind == Reduce::min) return v < acc || std::isnan(static_cast<double>(v)) ? v : acc;
    return static_cast<A>(acc + v);
  };
  auto finish = [&](A acc) {
    if (kind == Reduce::mean) {
      if constexpr (std::is_floating_point_v<A>) return static_cast<T>(acc / static_cast<A>(r));  // r = 0: NaN
      return static_cast<T>(r > 0 ? acc / static_cast<A>(r) : acc);
    }
    return static_cast<T>(acc);
  };
  if (k2 == 1) {
    if (k1 == 1 && r >= detail::kParallelMin) {
      // One long reduction: fixed blocks (independent of the thread count), then their partials in order.
      constexpr int64_t block = 8192;
      const int64_t nb = (r + block - 1) / block;
      std::vector<A> part(nb);
      detail::parallel_chunks(nb, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t s = b * block, e = std::min(r, s + block);
          A acc = is_sum ? A(0) : static_cast<A>(x[s]);
          for (int64_t i = is_sum ? s : s + 1; i < e; ++i) acc = combine(acc, static_cast<A>(x[i]));
          part[b] = acc;
        }
      }, block);
      A acc = part[0];
      for (int64_t b = 1; b < nb; ++b) acc = combine(acc, part[b]);
      y[0] = finish(acc);
      return;
    }
    detail::parallel_chunks(k1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const T* row = x + i * r;
        A acc = is_sum ? A(0) : static_cast<A>(row[0]);
        for (int64_t j = is_sum ? 0 : 1; j < r; ++j) acc = combine(acc, static_cast<A>(row[j]));
        y[i] = finish(acc);
      }
    }, r);
    return;
  }
  // k2 > 1: accumulate rows of length k2; split over k1, or over k2 when k1 is small.
  auto block = [&](int64_t i, int64_t j0, int64_t j1, std::vector<A>& acc) {
    const T* base = x + i * r * k2;
    for (int64_t j = j0; j < j1; ++j) acc[j - j0] = is_sum ? A(0) : static_cast<A>(base[j]);
    for (int64_t rr = is_sum ? 0 : 1; rr < r; ++rr) {
      const T* row = base + rr * k2;
      for (int64_t j = j0; j < j1; ++j) acc[j - j0] = combine(acc[j - j0], static_cast<A>(row[j]));
    }
    for (int64_t j = j0; j < j1; ++j) y[i * k2 + j] = finish(acc[j - j0]);
  };
  if (k1 >= 4) {
    detail::parallel_chunks(k1, [&](int64_t i0, int64_t i1) {
      std::vector<A> acc(k2);
      for (int64_t i = i0; i < i1; ++i) block(i, 0, k2, acc);
    }, r * k2);
  } else {
    for (int64_t i = 0; i < k1; ++i)
      detail::parallel_chunks(k2, [&](int64_t j0, int64_t j1) {
        std::vector<A> acc(j1 - j0);
        block(i, j0, j1, acc);
      }, r);
  }
}

// Unrecorded reduction with keepdims; plan returned for the caller.
Tensor reduce_forward(const Tensor& x_in, const Plan& p, Reduce kind, const char* op) {
  KEEL_CHECK(x_in.defined(), op, ": input is undefined");
  const DType dt = x_in.dtype();
  KEEL_CHECK(dt != DType::string && dt != DType::boolean, op, ": dtype ", dtype_name(dt), " is not supported");
  KEEL_CHECK(p.r > 0 || kind == Reduce::sum || kind == Reduce::mean || p.k1 * p.k2 == 0, op,
             ": cannot reduce an empty axis of ", shape_str(x_in.shape()), " (no identity for max/min)");
  Tensor x = p.perm.empty() ? x_in : permute(x_in.detach(), p.perm);
  Tensor y = Tensor::empty(p.keep_shape, dt);
  if (y.numel() == 0) return y;
  // oneDNN's max/min reductions drop NaN: an input holding one takes the plain (NaN-propagating) kernel.
  const bool extremum = kind == Reduce::max || kind == Reduce::min;
  if (dt == DType::f32 && x.numel() >= detail::kDnnlMin && p.r > 1 && !(extremum && detail::has_nan(x))) {
    detail::dnnl_reduce(kind, x, y, p.k1, p.r, p.k2);
    return y;
  }
  dispatch_numeric(dt, op, [&](auto z) {
    using T = decltype(z);
    if constexpr (!std::is_same_v<T, bool>) reduce_kernel<T>(kind, x.data<T>(), y.data<T>(), p.k1, p.r, p.k2);
  });
  return y;
}

// Gradient of max/min: g goes to the first position along r where x equals the result.
template <class T>
void first_match_grad(const T* x, const T* y, const T* g, T* gx, int64_t k1, int64_t r, int64_t k2) {
  detail::parallel_chunks(k1 * k2, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const int64_t i = o / k2, j = o % k2;
      for (int64_t rr = 0; rr < r; ++rr) {
        const int64_t at = (i * r + rr) * k2 + j;
        if (x[at] == y[o] || (x[at] != x[at] && y[o] != y[o])) {
          gx[at] = g[o];
          break;
        }
      }
    }
  }, r);
}

Tensor reduction(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims, Reduce kind, const char* op) {
  KEEL_CHECK(x.defined(), op, ": input is undefined");
  Plan p = make_plan(x.shape(), axes, keepdims, op);
  Tensor keep = reduce_forward(x, p, kind, op);
  Tensor out = keep.view(p.out_shape);
  if (should_record({x})) {
    if (kind == Reduce::sum || kind == Reduce::mean) {
      const double scale = kind == Reduce::mean && keep.numel() > 0 && x.numel() > 0
                               ? static_cast<double>(keep.numel()) / static_cast<double>(x.numel())
                               : 1.0;
      record(op, {x}, out, [keep_shape = p.keep_shape, shape = x.shape(), scale](const Tensor& g) {
        Tensor gx = broadcast_to(g.view(keep_shape), shape);
        if (scale != 1.0) gx = mul(gx, scale);
        return std::vector<Tensor>{gx};
      });
    } else {
      record(op, {x}, out, [xs = SavedTensor(x), ks = SavedTensor(keep), p](const Tensor& g) {
        const Tensor &xd = xs, &keep = ks;  // keep aliases the output
        Tensor xp = p.perm.empty() ? xd : permute(xd, p.perm);
        Tensor gx = Tensor::zeros(xp.shape(), xd.dtype());
        dispatch_floating(xd.dtype(), "max/min backward", [&](auto z) {
          using T = decltype(z);
          first_match_grad<T>(xp.data<T>(), keep.data<T>(), g.data<T>(), gx.data<T>(), p.k1, p.r, p.k2);
        });
        if (!p.perm.empty()) {
          std::vector<int64_t> inv(p.perm.size());
          for (size_t i = 0; i < p.perm.size(); ++i) inv[p.perm[i]] = static_cast<int64_t>(i);
          gx = permute(gx, inv);
        }
        return std::vector<Tensor>{gx};
      });
    }
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  return reduction(x, axes, keepdims, Reduce::sum, "sum");
}
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  return reduction(x, axes, keepdims, Reduce::mean, "mean");
}
Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  return reduction(x, axes, keepdims, Reduce::max, "max");
}
Tensor min(const Tensor& x, const std::vector<int64_t>& axes, bool keepdims) {
  return reduction(x, axes, keepdims, Reduce::min, "min");
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  KEEL_CHECK(x.defined(), "sum_to: input is undefined");
  const Shape& s = x.shape();
  if (s == shape) return x;
  const size_t rank = s.size(), lead = rank - std::min(rank, shape.size());
  KEEL_CHECK(shape.size() <= rank, "sum_to: cannot sum ", shape_str(s), " to ", shape_str(shape));
  std::vector<int64_t> axes;
  for (size_t d = 0; d < rank; ++d) {
    if (d < lead) {
      axes.push_back(static_cast<int64_t>(d));
      continue;
    }
    const int64_t want = shape[d - lead];
    KEEL_CHECK(want == s[d] || want == 1, "sum_to: cannot sum ", shape_str(s), " to ", shape_str(shape));
    if (want != s[d]) axes.push_back(static_cast<int64_t>(d));
  }
  Plan p = make_plan(s, axes, true, "sum_to");
  Tensor out = reduce_forward(x, p, Reduce::sum, "sum_to").view(shape);
  if (should_record({x}))
    record("sum_to", {x}, out, [xs = s](const Tensor& g) { return std::vector<Tensor>{broadcast_to(g, xs)}; });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  KEEL_CHECK(x.defined(), "broadcast_to: input is undefined");
  const Shape& s = x.shape();
  if (s == shape) return x;
  bool ok = s.size() <= shape.size();
  for (size_t i = 0; ok && i < s.size(); ++i) {
    const int64_t a = s[s.size() - 1 - i], b = shape[shape.size() - 1 - i];
    ok = a == b || a == 1;
  }
  KEEL_CHECK(ok, "broadcast_to: cannot broadcast ", shape_str(s), " to ", shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype());
  if (out.numel() > 0) {
    const detail::BroadcastPlan p = detail::broadcast_plan(shape, {&s}, "broadcast_to");
    dispatch_numeric(x.dtype(), "broadcast_to", [&](auto z) {
      using T = decltype(z);
      const T* src = x.data<T>();
      T* dst = out.data<T>();
      const int64_t inner = p.inner(), st = p.strides[0][p.rank - 1];
      detail::for_each_row(p, [&](int64_t, const int64_t* offs) {
        T* o = dst + offs[3];
        const T* a = src + offs[0];
        for (int64_t i = 0; i < inner; ++i) o[i] = a[i * st];
      });
    });
  }
  if (should_record({x}))
    record("broadcast_to", {x}, out, [xs = s](const Tensor& g) { return std::vector<Tensor>{sum_to(g, xs)}; });
  return out;
}

}  // namespace keel::ops
