// Shape ops: reshape (a recorded view), flatten, expand_dims, squeeze, transpose and permute.
#include "keel/ops/shape_ops.h"

#include "keel/graph/node.h"
#include "keel/ops/detail/loops.h"

namespace keel::ops {

Tensor reshape(const Tensor& x, const Shape& shape) {
  KEEL_CHECK(x.defined(), "reshape: input is undefined");
  Shape target = shape;
  int64_t known = 1, unknown = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      KEEL_CHECK(unknown < 0, "reshape: ", shape_str(shape), " has more than one -1");
      unknown = static_cast<int64_t>(i);
    } else {
      KEEL_CHECK(target[i] >= 0, "reshape: ", shape_str(shape), " has a negative dimension");
      known *= target[i];
    }
  }
  if (unknown >= 0) {
    KEEL_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape ", shape_str(x.shape()), " to ",
               shape_str(shape));
    target[unknown] = x.numel() / known;
  }
  KEEL_CHECK(checked_numel(target, "reshape") == x.numel(), "reshape: cannot reshape ", shape_str(x.shape()),
             " to ", shape_str(shape));
  Tensor out = x.view(target);
  if (should_record({x}))
    record("reshape", {x}, out, [s = x.shape()](const Tensor& g) { return std::vector<Tensor>{g.view(s)}; });
  return out;
}

Tensor flatten(const Tensor& x) {
  KEEL_CHECK(x.defined() && x.dim() >= 1, "flatten: needs rank >= 1, got ",
             x.defined() ? shape_str(x.shape()) : "undefined");
  int64_t rest = 1;
  for (int64_t d = 1; d < x.dim(); ++d) rest *= x.shape()[d];
  return reshape(x, {x.shape()[0], rest});
}

Tensor expand_dims(const Tensor& x, int64_t axis) {
  KEEL_CHECK(x.defined(), "expand_dims: input is undefined");
  const int64_t a = normalize_axis(axis, x.dim() + 1, "expand_dims");
  Shape s = x.shape();
  s.insert(s.begin() + a, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, const std::vector<int64_t>& axes) {
  KEEL_CHECK(x.defined(), "squeeze: input is undefined");
  const Shape& in = x.shape();
  std::vector<char> drop(in.size(), 0);
  if (axes.empty()) {
    for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
  }
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(a, x.dim(), "squeeze");
    KEEL_CHECK(in[d] == 1, "squeeze: axis ", a, " of ", shape_str(in), " has size ", in[d], ", not 1");
    drop[d] = 1;
  }
  Shape s;
  for (size_t d = 0; d < in.size(); ++d)
    if (!drop[d]) s.push_back(in[d]);
  return reshape(x, s);
}

Tensor transpose(const Tensor& x) {
  KEEL_CHECK(x.defined() && x.dim() >= 2, "transpose: needs rank >= 2, got ",
             x.defined() ? shape_str(x.shape()) : "undefined");
  std::vector<int64_t> perm(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) perm[i] = i;
  std::swap(perm[x.dim() - 1], perm[x.dim() - 2]);
  return permute(x, perm);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& perm) {
  KEEL_CHECK(x.defined(), "permute: input is undefined");
  const int64_t rank = x.dim();
  auto perm_str = [&] {
    std::string s = "[";
    for (size_t i = 0; i < perm.size(); ++i) s += (i ? "," : "") + std::to_string(perm[i]);
    return s + "]";
  };
  KEEL_CHECK(static_cast<int64_t>(perm.size()) == rank, "permute: permutation ", perm_str(), " for ",
             shape_str(x.shape()));
  KEEL_CHECK(rank <= detail::kMaxRank, "permute: rank ", rank, " exceeds the supported ", detail::kMaxRank);
  std::vector<char> seen(rank, 0);
  for (int64_t p : perm) {
    KEEL_CHECK(p >= 0 && p < rank && !seen[p], "permute: ", perm_str(), " is not a permutation of ", rank, " axes");
    seen[p] = 1;
  }
  const Shape& in = x.shape();
  const std::vector<int64_t> in_strides = contiguous_strides(in);
  Shape out_shape(rank);
  for (int64_t i = 0; i < rank; ++i) out_shape[i] = in[perm[i]];
  Tensor out = Tensor::empty(out_shape, x.dtype());
  if (out.numel() > 0) {
    // Walk the output in order; merge adjacent output axes that are also adjacent in the input.
    detail::BroadcastPlan p;
    p.operands = 1;
    int r = 0;
    for (int64_t i = 0; i < rank; ++i) {
      const int64_t n = out_shape[i], st = in_strides[perm[i]];
      if (n == 1) continue;
      if (r > 0 && p.strides[0][r - 1] == st * n) {
        p.dims[r - 1] *= n;
        p.strides[0][r - 1] = st;
      } else {
        p.dims[r] = n;
        p.strides[0][r] = st;
        ++r;
      }
    }
    if (r == 0) p.dims[r++] = 1;
    p.rank = r;
    const int64_t inner = p.inner(), sa = p.strides[0][r - 1];
    detail::dispatch_bytes(x.dtype(), "permute", [&](auto z) {
      using U = decltype(z);
      const U* src = static_cast<const U*>(x.raw_data());
      U* dst = static_cast<U*>(out.raw_data());
      detail::for_each_row(p, [&](int64_t, const int64_t* offs) {
        const U* a = src + offs[0];
        U* o = dst + offs[3];
        for (int64_t i = 0; i < inner; ++i) o[i] = a[i * sa];
      });
    });
  }
  if (should_record({x})) {
    std::vector<int64_t> inv(rank);
    for (int64_t i = 0; i < rank; ++i) inv[perm[i]] = i;
    record("permute", {x}, out, [inv](const Tensor& g) { return std::vector<Tensor>{permute(g, inv)}; });
  }
  return out;
}

}  // namespace keel::ops
