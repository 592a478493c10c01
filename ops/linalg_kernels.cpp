// Matrix-product kernels behind ops/linalg.cpp: shape planning, oneDNN f32 matmul (cached primitive,
// bias and eltwise post-op fused), a blocked OpenMP f64 kernel, and the batch-reduction helper
// the gradients use.
#include <algorithm>
#include <cstring>
#include <string>

#include "keel/ops/detail/dnnl_kernels.h"
#include "keel/ops/detail/linalg_kernels.h"
#include "keel/ops/dnnl.h"

namespace keel::ops::linalg_detail {

int64_t MatmulPlan::batch_count() const {
  int64_t c = 1;
  for (int64_t d : batch) c *= d;
  return c;
}

namespace {

std::string operand(const Shape& s, bool t) { return shape_str(s) + (t ? "^T" : ""); }

Shape pad_left(const Shape& s, size_t rank) {
  Shape out(rank - s.size(), 1);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

// For each flat index into `out_batch`, the flat index into `in_batch` (same rank, dims equal or 1).
std::vector<int64_t> batch_offsets(const Shape& out_batch, const Shape& in_batch) {
  const size_t r = out_batch.size();
  std::vector<int64_t> in_stride(r, 0);
  int64_t s = 1;
  for (size_t i = r; i-- > 0;) {
    in_stride[i] = in_batch[i] == 1 ? 0 : s;
    s *= in_batch[i];
  }
  int64_t count = 1;
  for (int64_t d : out_batch) count *= d;
  std::vector<int64_t> offs(static_cast<size_t>(count), 0);
  std::vector<int64_t> idx(r, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t o = 0;
    for (size_t i = 0; i < r; ++i) o += idx[i] * in_stride[i];
    offs[static_cast<size_t>(flat)] = o;
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < out_batch[i]) break;
      idx[i] = 0;
    }
  }
  return offs;
}

// Contiguous copy of t with its last two axes swapped.
template <class T>
Tensor transpose_last2(const Tensor& t) {
  const Shape& s = t.shape();
  const int64_t r = s[s.size() - 2], c = s[s.size() - 1], batches = r * c == 0 ? 0 : t.numel() / (r * c);
  Shape os = s;
  std::swap(os[os.size() - 2], os[os.size() - 1]);
  Tensor out = Tensor::uninitialized(os, t.dtype());
  const T* src = t.data<T>();
  T* dst = out.data<T>();
#pragma omp parallel for collapse(2) if (t.numel() > 65536)
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) dst[b * r * c + j * r + i] = src[b * r * c + i * c + j];
  return out;
}

void gemm_f64(const Tensor& a, const Tensor& b, Tensor& out, const MatmulPlan& p) {
  const Tensor A = p.ta ? transpose_last2<double>(a) : a;  // [.., m, k]
  const Tensor B = p.tb ? transpose_last2<double>(b) : b;  // [.., k, n]
  const auto aoff = batch_offsets(p.batch, p.a_batch), boff = batch_offsets(p.batch, p.b_batch);
  const int64_t m = p.m, k = p.k, n = p.n, batches = p.batch_count();
  constexpr int64_t kRows = 32, kDepth = 256;
  const int64_t row_blocks = (m + kRows - 1) / kRows;
  const double* pa = A.data<double>();
  const double* pb = B.data<double>();
  double* pc = out.data<double>();
#pragma omp parallel for collapse(2) schedule(static) if (batches * m * n * k > 32768)
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t rb = 0; rb < row_blocks; ++rb) {
      const double* a0 = pa + aoff[static_cast<size_t>(bi)] * m * k;
      const double* b0 = pb + boff[static_cast<size_t>(bi)] * k * n;
      double* c0 = pc + bi * m * n;
      const int64_t i_end = std::min(m, (rb + 1) * kRows);
      for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
        const int64_t k_end = std::min(k, k0 + kDepth);
        for (int64_t i = rb * kRows; i < i_end; ++i) {
          double* crow = c0 + i * n;
          for (int64_t kk = k0; kk < k_end; ++kk) {
            const double aik = a0[i * k + kk];
            const double* brow = b0 + kk * n;
            for (int64_t j = 0; j < n; ++j) crow[j] += aik * brow[j];
          }
        }
      }
    }
  }
}

dnnl::algorithm post_op_alg(Activation a) {
  switch (a) {
    case Activation::relu: return dnnl::algorithm::eltwise_relu;
    case Activation::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case Activation::tanh: return dnnl::algorithm::eltwise_tanh;
    case Activation::elu: return dnnl::algorithm::eltwise_elu;
    case Activation::gelu: return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::swish: return dnnl::algorithm::eltwise_swish;
    case Activation::exponential: return dnnl::algorithm::eltwise_exp;
    case Activation::softplus: return dnnl::algorithm::eltwise_soft_relu;
    default: break;
  }
  KEEL_FAIL("dense: activation #", static_cast<int>(a), " is not a oneDNN post-op");
}

// Logical [batch..., rows, cols] descriptor of a tensor stored as [batch..., rows, cols] (or
// [batch..., cols, rows] when transposed), expressed through strides.
dnnl::memory::desc operand_desc(const Shape& batch, int64_t rows, int64_t cols, bool transposed) {
  Shape dims = batch;
  dims.push_back(rows);
  dims.push_back(cols);
  Shape stored = dims;
  if (transposed) std::swap(stored[stored.size() - 2], stored[stored.size() - 1]);
  auto st = contiguous_strides(stored);
  if (transposed) std::swap(st[st.size() - 2], st[st.size() - 1]);
  return dnnl::memory::desc(dnnl_glue::to_dims(dims), dnnl::memory::data_type::f32,
                            dnnl::memory::dims(st.begin(), st.end()));
}

void append_dims(std::string& key, const dnnl::memory::desc& md) {
  for (int64_t d : md.dims()) key += std::to_string(d) + ",";
  key += "/";
  for (int64_t s : md.data.format_desc.blocking.strides) {
    key += std::to_string(s) + ",";
    if (s == 0) break;
  }
  key += ";";
}

void matmul_f32(const Tensor& a, const Tensor& b, Tensor& out, const MatmulPlan& p, const Tensor& bias,
                Activation fused) {
  auto& ctx = dnnl_glue::context();
  const auto amd = operand_desc(p.a_batch, p.m, p.k, p.ta);
  const auto bmd = operand_desc(p.b_batch, p.k, p.n, p.tb);
  const auto cmd = operand_desc(p.batch, p.m, p.n, false);
  dnnl::memory::desc biasmd;
  if (bias.defined()) biasmd = operand_desc(Shape(p.batch.size(), 1), 1, p.n, false);
  std::string key = "matmul:f32:";
  append_dims(key, amd);
  append_dims(key, bmd);
  append_dims(key, cmd);
  key += bias.defined() ? "bias:" : "nobias:";
  key += std::to_string(static_cast<int>(fused));
  auto prim = dnnl_glue::cached<dnnl::matmul>(key, [&] {
    dnnl::primitive_attr attr;
    if (fused != Activation::linear) {
      dnnl::post_ops po;
      const float alpha = (fused == Activation::elu || fused == Activation::swish) ? 1.f : 0.f;
      po.append_eltwise(1.f, post_op_alg(fused), alpha, 0.f);
      attr.set_post_ops(po);
    }
    auto desc = bias.defined() ? dnnl::matmul::desc(amd, bmd, biasmd, cmd) : dnnl::matmul::desc(amd, bmd, cmd);
    return dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, ctx.engine));
  });
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl_glue::wrap(a, amd)},
                                             {DNNL_ARG_WEIGHTS, dnnl_glue::wrap(b, bmd)},
                                             {DNNL_ARG_DST, dnnl_glue::wrap(out, cmd)}};
  if (bias.defined()) args.emplace(DNNL_ARG_BIAS, dnnl_glue::wrap(bias, biasmd));
  prim.execute(ctx.stream, args);
  ctx.stream.wait();
}

}  // namespace

MatmulPlan plan_matmul(const Shape& a, const Shape& b, bool ta, bool tb, const char* op) {
  const std::string what = std::string(op) + ": " + operand(a, ta) + " x " + operand(b, tb) + ": ";
  KEEL_CHECK(a.size() >= 2 && b.size() >= 2, what, "both operands need rank >= 2");
  MatmulPlan p;
  p.ta = ta;
  p.tb = tb;
  const size_t ra = a.size(), rb = b.size();
  p.m = ta ? a[ra - 1] : a[ra - 2];
  p.k = ta ? a[ra - 2] : a[ra - 1];
  const int64_t kb = tb ? b[rb - 1] : b[rb - 2];
  p.n = tb ? b[rb - 2] : b[rb - 1];
  KEEL_CHECK(p.k == kb, what, "inner dimensions ", p.k, " and ", kb, " differ");
  const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  const size_t r = std::max(ab.size(), bb.size());
  p.a_batch = pad_left(ab, r);
  p.b_batch = pad_left(bb, r);
  p.batch.resize(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = p.a_batch[i], y = p.b_batch[i];
    KEEL_CHECK(x == y || x == 1 || y == 1, what, "batch dimensions ", shape_str(ab), " and ", shape_str(bb),
               " do not broadcast");
    p.batch[i] = x == 1 ? y : x;
  }
  KEEL_CHECK(r + 2 <= DNNL_MAX_NDIMS, what, "rank ", r + 2, " exceeds ", DNNL_MAX_NDIMS);
  p.out = p.batch;
  p.out.push_back(p.m);
  p.out.push_back(p.n);
  checked_numel(p.out, op);
  return p;
}

bool post_op_safe(const Tensor& x, const Tensor& w, const Tensor& b) {
  return !ops::detail::has_non_finite(x) && !ops::detail::has_non_finite(w) &&
         !(b.defined() && ops::detail::has_non_finite(b));
}

bool fusable(Activation a) {
  switch (a) {
    case Activation::relu: case Activation::sigmoid: case Activation::tanh: case Activation::elu:
    case Activation::gelu: case Activation::swish: case Activation::exponential: case Activation::softplus:
      return true;
    default: return false;
  }
}

Tensor matmul_kernel(const Tensor& a, const Tensor& b, const MatmulPlan& p, const Tensor& bias,
                     Activation fused) {
  // oneDNN's f32 matmul writes every element; the f64 gemm accumulates into zeros, and an empty inner
  // dimension leaves them.
  Tensor out = a.dtype() == DType::f32 && p.k > 0 ? Tensor::uninitialized(p.out, a.dtype())
                                                  : Tensor::zeros(p.out, a.dtype());
  if (out.numel() == 0) return out;
  if (a.dtype() == DType::f32 && p.k > 0) {
    KEEL_CHECK(fused == Activation::linear || fusable(fused), "matmul: activation #", static_cast<int>(fused),
               " cannot be fused");
    matmul_f32(a, b, out, p, bias, fused);
    return out;
  }
  if (a.dtype() == DType::f64 && p.k > 0) gemm_f64(a, b, out, p);
  // f64, or an empty inner dimension (the product is zeros): bias and activation afterwards.
  if (bias.defined()) {
    Tensor rows = out.view({out.numel() / p.n, p.n});
    add_bias_(rows, bias);
  }
  activate_(out, fused);
  return out;
}

Tensor sum_batches_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const Shape gb(g.shape().begin(), g.shape().end() - 2);
  const Shape tb = pad_left(Shape(shape.begin(), shape.end() - 2), gb.size());
  const auto offs = batch_offsets(gb, tb);
  const int64_t block = shape[shape.size() - 2] * shape[shape.size() - 1];
  Tensor out = Tensor::zeros(shape, g.dtype());
  dispatch_floating(g.dtype(), "matmul gradient", [&](auto z) {
    using T = decltype(z);
    const T* src = g.data<T>();
    T* dst = out.data<T>();
    for (size_t bi = 0; bi < offs.size(); ++bi) {
      const T* s = src + static_cast<int64_t>(bi) * block;
      T* d = dst + offs[bi] * block;
#pragma omp parallel for if (block > 65536)
      for (int64_t i = 0; i < block; ++i) d[i] += s[i];
    }
  });
  return out;
}

void add_bias_(Tensor& y2d, const Tensor& bias) {
  const int64_t rows = y2d.size(0), n = y2d.size(1);
  dispatch_floating(y2d.dtype(), "dense bias", [&](auto z) {
    using T = decltype(z);
    T* y = y2d.data<T>();
    const T* b = bias.data<T>();
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) y[r * n + j] += b[j];
  });
}

Tensor column_sums(const Tensor& g2d) {
  const int64_t rows = g2d.size(0), n = g2d.size(1);
  Tensor out = Tensor::zeros({n}, g2d.dtype());
  dispatch_floating(g2d.dtype(), "dense bias gradient", [&](auto z) {
    using T = decltype(z);
    const T* g = g2d.data<T>();
    T* o = out.data<T>();
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t j = 0; j < n; ++j) {
      T s = 0;
      for (int64_t r = 0; r < rows; ++r) s += g[r * n + j];
      o[j] = s;
    }
  });
  return out;
}

}  // namespace keel::ops::linalg_detail
