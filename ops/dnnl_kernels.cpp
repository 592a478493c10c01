// oneDNN forward kernels for the elementwise, activation and reduction ops (see ops/detail/dnnl_kernels.h).
#include "keel/ops/detail/dnnl_kernels.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/ops/detail/loops.h"
#include "keel/ops/dnnl.h"

namespace keel::ops::detail {

namespace {

using dnnl::algorithm;
using dnnl::memory;

algorithm to_alg(Eltwise e) {
  switch (e) {
    case Eltwise::exp: return algorithm::eltwise_exp;
    case Eltwise::log: return algorithm::eltwise_log;
    case Eltwise::sqrt: return algorithm::eltwise_sqrt;
    case Eltwise::square: return algorithm::eltwise_square;
    case Eltwise::abs: return algorithm::eltwise_abs;
    case Eltwise::relu: return algorithm::eltwise_relu;
    case Eltwise::tanh: return algorithm::eltwise_tanh;
    case Eltwise::logistic: return algorithm::eltwise_logistic;
    case Eltwise::elu: return algorithm::eltwise_elu;
    case Eltwise::soft_relu: return algorithm::eltwise_soft_relu;
    case Eltwise::gelu_erf: return algorithm::eltwise_gelu_erf;
    case Eltwise::swish: return algorithm::eltwise_swish;
    case Eltwise::clip: return algorithm::eltwise_clip;
    case Eltwise::pow: return algorithm::eltwise_pow;
    case Eltwise::linear: return algorithm::eltwise_linear;
  }
  return algorithm::eltwise_linear;
}

algorithm to_alg(Binary b) {
  switch (b) {
    case Binary::add: return algorithm::binary_add;
    case Binary::sub: return algorithm::binary_sub;
    case Binary::mul: return algorithm::binary_mul;
    case Binary::div: return algorithm::binary_div;
    case Binary::max: return algorithm::binary_max;
    case Binary::min: return algorithm::binary_min;
  }
  return algorithm::binary_add;
}

algorithm to_alg(Reduce r) {
  switch (r) {
    case Reduce::sum: return algorithm::reduction_sum;
    case Reduce::mean: return algorithm::reduction_mean;
    case Reduce::max: return algorithm::reduction_max;
    case Reduce::min: return algorithm::reduction_min;
  }
  return algorithm::reduction_sum;
}

std::string dims_key(const memory::dims& d) {
  std::string s;
  for (auto v : d) s += std::to_string(v) + ",";
  return s;
}

memory::desc flat_desc(int64_t n) { return memory::desc({n}, memory::data_type::f32, memory::format_tag::a); }

void run(dnnl::primitive& p, std::unordered_map<int, memory> args) {
  auto& ctx = dnnl_glue::context();
  p.execute(ctx.stream, args);
  ctx.stream.wait();
}

}  // namespace

void dnnl_eltwise(Eltwise alg, const Tensor& x, Tensor& y, float alpha, float beta) {
  auto& ctx = dnnl_glue::context();
  const int64_t n = x.numel();
  const memory::desc md = flat_desc(n);
  const std::string key = "keel.eltwise:" + std::to_string(static_cast<int>(alg)) + ":" + std::to_string(n) + ":" +
                          dnnl_glue::float_key(alpha) + ":" + dnnl_glue::float_key(beta);
  auto prim = dnnl_glue::cached<dnnl::eltwise_forward>(key, [&] {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, to_alg(alg), md, alpha, beta);
    return dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, ctx.engine));
  });
  run(prim, {{DNNL_ARG_SRC, dnnl_glue::wrap(x, md)}, {DNNL_ARG_DST, dnnl_glue::wrap(y, md)}});
  // oneDNN's relu and clip are max/min instructions that return the bound for NaN, and its exp returns
  // inf: put NaN back where the input has it, as the plain kernels and TensorFlow give. Arithmetic
  // algorithms (linear, square, abs, pow) propagate NaN by themselves. The common case (no NaN) costs
  // one read-only scan of x, not a rewrite of y.
  if (alg != Eltwise::linear && alg != Eltwise::square && alg != Eltwise::abs && alg != Eltwise::pow &&
      has_nan(x)) {
    const float* px = x.data<float>();
    float* py = y.data<float>();
    simd_for(n, [px, py](int64_t i) { py[i] = px[i] != px[i] ? px[i] : py[i]; });
  }
}

namespace {
// True when some element of the f32 tensor x has magnitude bits >= `threshold` (an IEEE float's
// magnitude bits order like its value; infinity is 0x7f800000 and every NaN lies above it). Adding
// 2^31 - threshold carries into bit 31 exactly for those elements, so the test is an OR-reduction of
// integer adds: branch-free and vectorized even with SSE2 (a float compare would not see NaN).
// Blocks are scanned in parallel.
bool any_magnitude_at_least(const Tensor& x, uint32_t threshold) {
  const uint32_t* p = static_cast<const uint32_t*>(x.raw_data());
  const uint32_t add = 0x80000000u - threshold;
  const int64_t n = x.numel();
  constexpr int64_t block = 1 << 15;
  const int64_t nb = (n + block - 1) / block;
  std::vector<uint32_t> found(static_cast<size_t>(nb), 0);
  parallel_chunks(nb, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t s = b * block, e = std::min(n, s + block);
      uint32_t acc = 0;
#pragma omp simd reduction(| : acc)
      for (int64_t i = s; i < e; ++i) acc |= (p[i] & 0x7fffffffu) + add;
      found[static_cast<size_t>(b)] = acc >> 31;
    }
  }, block);
  for (uint32_t f : found)
    if (f) return true;
  return false;
}
}  // namespace

bool has_nan(const Tensor& x) { return any_magnitude_at_least(x, 0x7f800001u); }

bool has_non_finite(const Tensor& x) { return any_magnitude_at_least(x, 0x7f800000u); }

void dnnl_binary(Binary alg, const Tensor& a, const Tensor& b, Tensor& out) {
  auto& ctx = dnnl_glue::context();
  const memory::dims da = dnnl_glue::to_dims(out.shape());
  memory::dims db(da.size(), 1);
  const Shape& sb = b.shape();
  for (size_t i = 0; i < sb.size(); ++i) db[da.size() - sb.size() + i] = sb[i];
  auto plain = [](const memory::dims& d) {
    memory::dims st(d.size(), 1);
    for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * d[i + 1];
    return memory::desc(d, memory::data_type::f32, st);
  };
  const memory::desc ma = plain(da), mb = plain(db);
  const std::string key =
      "keel.binary:" + std::to_string(static_cast<int>(alg)) + ":" + dims_key(da) + ":" + dims_key(db);
  auto prim = dnnl_glue::cached<dnnl::binary>(key, [&] {
    dnnl::binary::desc d(to_alg(alg), ma, mb, ma);
    return dnnl::binary(dnnl::binary::primitive_desc(d, ctx.engine));
  });
  run(prim, {{DNNL_ARG_SRC_0, dnnl_glue::wrap(a, ma)},
             {DNNL_ARG_SRC_1, dnnl_glue::wrap(b, mb)},
             {DNNL_ARG_DST, dnnl_glue::wrap(out, ma)}});
}

void dnnl_softmax(const Tensor& x, Tensor& y, int64_t outer, int64_t classes, int64_t inner, bool log) {
  auto& ctx = dnnl_glue::context();
  const memory::desc md({outer, classes, inner}, memory::data_type::f32, memory::format_tag::abc);
  const std::string key = std::string(log ? "keel.logsoftmax:" : "keel.softmax:") + std::to_string(outer) + "," +
                          std::to_string(classes) + "," + std::to_string(inner);
  auto prim = dnnl_glue::cached<dnnl::softmax_v2_forward>(key, [&] {
    dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_inference,
                                     log ? algorithm::softmax_log : algorithm::softmax_accurate, md, md, 1);
    return dnnl::softmax_v2_forward(dnnl::softmax_v2_forward::primitive_desc(d, ctx.engine));
  });
  run(prim, {{DNNL_ARG_SRC, dnnl_glue::wrap(x, md)}, {DNNL_ARG_DST, dnnl_glue::wrap(y, md)}});
  if (log) {
    // softmax_log rounds x - max - log(sum) to a few ulps above 0 for a dominant logit (+1.4e-6 on
    // [512, 10]); a log-probability is never positive (NaN stays NaN).
    float* p = y.data<float>();
    simd_for(y.numel(), [p](int64_t i) { p[i] = p[i] > 0.f ? 0.f : p[i]; });
  }
}

void dnnl_reduce(Reduce alg, const Tensor& x, Tensor& y, int64_t k1, int64_t r, int64_t k2) {
  auto& ctx = dnnl_glue::context();
  const memory::desc ms({k1, r, k2}, memory::data_type::f32, memory::format_tag::abc);
  const memory::desc md({k1, 1, k2}, memory::data_type::f32, memory::format_tag::abc);
  const std::string key = "keel.reduce:" + std::to_string(static_cast<int>(alg)) + ":" + std::to_string(k1) + "," +
                          std::to_string(r) + "," + std::to_string(k2);
  auto prim = dnnl_glue::cached<dnnl::reduction>(key, [&] {
    dnnl::reduction::desc d(to_alg(alg), ms, md, 0.f, 0.f);
    return dnnl::reduction(dnnl::reduction::primitive_desc(d, ctx.engine));
  });
  run(prim, {{DNNL_ARG_SRC, dnnl_glue::wrap(x, ms)}, {DNNL_ARG_DST, dnnl_glue::wrap(y, md)}});
}

}  // namespace keel::ops::detail
