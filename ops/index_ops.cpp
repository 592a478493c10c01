// Indexing ops: slice, reverse, concat, stack, gather (scatter-add gradient), one_hot and argmax.
#include <cmath>
#include <cstring>

#include "keel/graph/node.h"
#include "keel/ops/detail/loops.h"
#include "keel/ops/shape_ops.h"

namespace keel::ops {

namespace {

// x viewed as [outer, size(axis), inner].
struct Split {
  int64_t outer = 1, size = 1, inner = 1;
};
Split split_at(const Shape& s, int64_t axis) {
  Split p;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < axis) p.outer *= s[d];
    else if (d == axis) p.size = s[d];
    else p.inner *= s[d];
  }
  return p;
}

// Copies rows [outer, k, inner] between two tensors: dst row (o, dst_start + k) <- src row
// (o, src_start + k * src_step); src_step may be negative.
void copy_rows(const Tensor& src, Tensor& dst, int64_t outer, int64_t count, int64_t inner, int64_t src_size,
               int64_t dst_size, int64_t src_start, int64_t src_step, int64_t dst_start) {
  const size_t esz = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  const size_t row = static_cast<size_t>(inner) * esz;
  if (row == 0) return;
  detail::parallel_chunks(outer, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t k = 0; k < count; ++k)
        std::memcpy(d + ((o * dst_size + dst_start + k) * inner) * esz,
                    s + ((o * src_size + src_start + k * src_step) * inner) * esz, row);
  }, count * inner);
}

void check_copyable(const Tensor& x, const char* op) {
  KEEL_CHECK(x.defined(), op, ": input is undefined");
  KEEL_CHECK(x.dtype() != DType::string, op, ": dtype string is not supported");
}

}  // namespace

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t stop, int64_t step) {
  check_copyable(x, "slice");
  const int64_t a = normalize_axis(axis, x.dim(), "slice");
  KEEL_CHECK(step > 0, "slice: step ", step, " must be positive");
  const int64_t n = x.shape()[a];
  auto clamp = [n](int64_t i) { return std::min(n, std::max<int64_t>(0, i < 0 ? i + n : i)); };
  const int64_t s0 = clamp(start), s1 = clamp(stop);
  const int64_t count = s1 > s0 ? (s1 - s0 - 1) / step + 1 : 0;  // no overflow for any step
  Shape shape = x.shape();
  shape[a] = count;
  Tensor out = Tensor::empty(shape, x.dtype());
  const Split p = split_at(x.shape(), a);
  copy_rows(x, out, p.outer, count, p.inner, n, count, s0, step, 0);
  if (should_record({x}))
    record("slice", {x}, out, [xs = x.shape(), p, count, s0, step](const Tensor& g) {
      Tensor gx = Tensor::zeros(xs, g.dtype());
      // Scatter back: row k of g goes to row s0 + k * step of gx.
      const size_t esz = dtype_size(g.dtype()), row = static_cast<size_t>(p.inner) * esz;
      const char* s = static_cast<const char*>(g.raw_data());
      char* d = static_cast<char*>(gx.raw_data());
      for (int64_t o = 0; o < p.outer && row > 0; ++o)
        for (int64_t k = 0; k < count; ++k)
          std::memcpy(d + ((o * p.size + s0 + k * step) * p.inner) * esz, s + ((o * count + k) * p.inner) * esz, row);
      return std::vector<Tensor>{gx};
    });
  return out;
}

Tensor reverse(const Tensor& x, int64_t axis) {
  check_copyable(x, "reverse");
  const int64_t a = normalize_axis(axis, x.dim(), "reverse");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  const Split p = split_at(x.shape(), a);
  if (p.size > 0) copy_rows(x, out, p.outer, p.size, p.inner, p.size, p.size, p.size - 1, -1, 0);
  if (should_record({x}))
    record("reverse", {x}, out, [a](const Tensor& g) { return std::vector<Tensor>{reverse(g, a)}; });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  KEEL_CHECK(!xs.empty(), "concat: no inputs");
  for (const Tensor& x : xs) check_copyable(x, "concat");
  const Tensor& first = xs[0];
  const int64_t a = normalize_axis(axis, first.dim(), "concat");
  Shape shape = first.shape();
  shape[a] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool ok = x.dtype() == first.dtype() && x.dim() == first.dim();
    for (int64_t d = 0; ok && d < first.dim(); ++d) ok = d == a || x.shape()[d] == first.shape()[d];
    KEEL_CHECK(ok, "concat: input ", i, " is ", shape_str(x.shape()), " ", dtype_name(x.dtype()), ", input 0 is ",
               shape_str(first.shape()), " ", dtype_name(first.dtype()), " (axis ", a, ")");
    KEEL_CHECK(!__builtin_add_overflow(shape[a], x.shape()[a], &shape[a]), "concat: the sizes along axis ", a,
               " overflow int64 at input ", i, " ", shape_str(x.shape()), " (input 0 is ", shape_str(first.shape()),
               ")");
  }
  Tensor out = Tensor::empty(shape, first.dtype());
  const Split po = split_at(shape, a);
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    const int64_t n = x.shape()[a];
    copy_rows(x, out, po.outer, n, po.inner, n, po.size, 0, 1, at);
    sizes.push_back(n);
    at += n;
  }
  if (should_record_any(xs))
    record("concat", xs, out, [sizes, a](const Tensor& g) {
      std::vector<Tensor> gs;
      int64_t begin = 0;
      for (int64_t n : sizes) {
        gs.push_back(slice(g, a, begin, begin + n));
        begin += n;
      }
      return gs;
    });
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  KEEL_CHECK(!xs.empty(), "stack: no inputs");
  for (size_t i = 0; i < xs.size(); ++i)
    KEEL_CHECK(xs[i].defined() && xs[0].defined() && xs[i].shape() == xs[0].shape(), "stack: input ", i, " is ",
               xs[i].defined() ? shape_str(xs[i].shape()) : "undefined", ", input 0 is ",
               xs[0].defined() ? shape_str(xs[0].shape()) : "undefined");
  const int64_t a = normalize_axis(axis, xs[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  expanded.reserve(xs.size());
  for (const Tensor& x : xs) expanded.push_back(expand_dims(x, a));
  return concat(expanded, a);
}

namespace {
// Reads integer indices as int64 (i32 or i64).
template <class F>
void with_indices(const Tensor& idx, const char* op, F&& f) {
  KEEL_CHECK(idx.defined(), op, ": indices are undefined");
  if (idx.dtype() == DType::i64) return f(idx.data<int64_t>());
  KEEL_CHECK(idx.dtype() == DType::i32, op, ": indices must be i32 or i64, got ", dtype_name(idx.dtype()));
  return f(idx.data<int32_t>());
}
}  // namespace

Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis) {
  check_copyable(x, "gather");
  const int64_t a = normalize_axis(axis, x.dim(), "gather");
  const Split p = split_at(x.shape(), a);
  Shape shape(x.shape().begin(), x.shape().begin() + a);
  for (int64_t d : indices.shape()) shape.push_back(d);
  for (int64_t d = a + 1; d < x.dim(); ++d) shape.push_back(x.shape()[d]);
  const int64_t n = indices.numel();
  std::vector<int64_t> ids(n);
  with_indices(indices, "gather", [&](const auto* id) {
    for (int64_t i = 0; i < n; ++i) {
      KEEL_CHECK(id[i] >= 0 && id[i] < p.size, "gather: index ", id[i], " is out of range for axis ", a,
                 " of size ", p.size);
      ids[i] = id[i];
    }
  });
  Tensor out = Tensor::empty(shape, x.dtype());
  const size_t esz = dtype_size(x.dtype()), row = static_cast<size_t>(p.inner) * esz;
  const char* s = static_cast<const char*>(x.raw_data());
  char* d = static_cast<char*>(out.raw_data());
  if (row > 0)
    detail::parallel_chunks(p.outer * n, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const int64_t o = k / n, j = k % n;
        std::memcpy(d + k * row, s + (o * p.size + ids[j]) * row, row);
      }
    }, p.inner);
  if (should_record({x}))
    record("gather", {x, indices}, out, [xs = x.shape(), p, ids = std::move(ids)](const Tensor& g) {
      Tensor gx = Tensor::zeros(xs, g.dtype());
      const int64_t n = static_cast<int64_t>(ids.size());
      dispatch_floating(g.dtype(), "gather backward", [&](auto z) {
        using T = decltype(z);
        const T* pg = g.data<T>();
        T* px = gx.data<T>();
        // Each outer slice is owned by one thread; within it, rows add up in index order.
        detail::parallel_chunks(p.outer, [&](int64_t o0, int64_t o1) {
          for (int64_t o = o0; o < o1; ++o)
            for (int64_t j = 0; j < n; ++j) {
              T* dst = px + (o * p.size + ids[j]) * p.inner;
              const T* src = pg + (o * n + j) * p.inner;
              for (int64_t i = 0; i < p.inner; ++i) dst[i] += src[i];
            }
        }, n * p.inner);
      });
      return std::vector<Tensor>{gx, Tensor()};
    });
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t depth, DType dtype) {
  KEEL_CHECK(depth >= 0, "one_hot: depth ", depth, " is negative");
  Shape shape = indices.defined() ? indices.shape() : Shape{};
  shape.push_back(depth);
  Tensor out = Tensor::zeros(shape, dtype);
  with_indices(indices, "one_hot", [&](const auto* id) {
    dispatch_numeric(dtype, "one_hot", [&](auto z) {
      using T = decltype(z);
      T* o = out.data<T>();
      // Like TensorFlow, an index outside [0, depth) gives a row of zeros.
      for (int64_t i = 0; i < indices.numel(); ++i)
        if (id[i] >= 0 && id[i] < depth) o[i * depth + id[i]] = T(1);
    });
  });
  return out;
}

Tensor argmax(const Tensor& x, int64_t axis) {
  KEEL_CHECK(x.defined(), "argmax: input is undefined");
  const int64_t a = normalize_axis(axis, x.dim(), "argmax");
  const Split p = split_at(x.shape(), a);
  Shape shape = x.shape();
  shape.erase(shape.begin() + a);
  Tensor out = Tensor::empty(shape, DType::i64);
  KEEL_CHECK(p.size > 0 || out.numel() == 0, "argmax: axis ", a, " of ", shape_str(x.shape()), " is empty");
  int64_t* o = out.data<int64_t>();
  dispatch_numeric(x.dtype(), "argmax", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    detail::parallel_chunks(p.outer * p.inner, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const T* base = px + (k / p.inner) * p.size * p.inner + k % p.inner;
        // The first NaN is the maximum, as ops::max propagates it and torch.argmax returns its index;
        // a plain `>` skipped it, so the answer depended on where the NaN sat.
        int64_t best = 0;
        for (int64_t c = 1; c < p.size; ++c) {
          const T cur = base[best * p.inner], v = base[c * p.inner];
          if (std::isnan(static_cast<double>(cur))) break;
          if (v > cur || std::isnan(static_cast<double>(v))) best = c;
        }
        o[k] = best;
      }
    }, p.size);
  });
  return out;
}

}  // namespace keel::ops
