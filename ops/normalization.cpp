// Batch and layer normalization: oneDNN primitives for f32, a plain kernel for f64 (the gradient
// reference). Both normalize groups of elements: batch norm one group per channel (over all rows),
// layer norm one group per row (over the last axis).
#include "keel/ops/normalization.h"

#include <cmath>

#include "keel/graph/node.h"
#include "keel/ops/dnnl.h"

namespace keel::ops {

using dnnl::memory;
using flags = dnnl::normalization_flags;

namespace {

enum class Kind { batch, layer };

// rows x cols view of x (cols = last axis). Batch norm groups are columns, layer norm groups rows.
struct Layout {
  Kind kind;
  int64_t rows, cols;
  int64_t groups() const { return kind == Kind::batch ? cols : rows; }
  int64_t count() const { return kind == Kind::batch ? rows : cols; }
  int64_t index(int64_t g, int64_t k) const { return kind == Kind::batch ? k * cols + g : g * cols + k; }
  int64_t affine(int64_t g, int64_t k) const { return kind == Kind::batch ? g : k; }
};

// Plain forward; computes biased batch statistics into mean/var when `compute_stats`.
template <class T>
void plain_forward(const Layout& L, const T* x, const T* gamma, const T* beta, T* mean, T* var, double eps,
                   bool compute_stats, T* y) {
  for (int64_t g = 0; g < L.groups(); ++g) {
    if (compute_stats) {
      T s = 0, s2 = 0;
      for (int64_t k = 0; k < L.count(); ++k) s += x[L.index(g, k)];
      const T m = s / T(L.count());
      for (int64_t k = 0; k < L.count(); ++k) s2 += (x[L.index(g, k)] - m) * (x[L.index(g, k)] - m);
      mean[g] = m;
      var[g] = s2 / T(L.count());
    }
    const T inv = T(1) / std::sqrt(var[g] + T(eps));
    for (int64_t k = 0; k < L.count(); ++k) {
      const int64_t i = L.index(g, k), a = L.affine(g, k);
      y[i] = (x[i] - mean[g]) * inv * (gamma ? gamma[a] : T(1)) + (beta ? beta[a] : T(0));
    }
  }
}

// Plain backward; dgamma/dbeta may be null. With batch statistics the mean and variance depend on x.
template <class T>
void plain_backward(const Layout& L, const T* x, const T* gamma, const T* mean, const T* var, double eps,
                    bool batch_stats, const T* gy, T* dx, T* dgamma, T* dbeta) {
  for (int64_t g = 0; g < L.groups(); ++g) {
    const T inv = T(1) / std::sqrt(var[g] + T(eps));
    T sum_d = 0, sum_dx = 0;
    for (int64_t k = 0; k < L.count(); ++k) {
      const int64_t i = L.index(g, k), a = L.affine(g, k);
      const T xhat = (x[i] - mean[g]) * inv, d = gy[i] * (gamma ? gamma[a] : T(1));
      sum_d += d;
      sum_dx += d * xhat;
      if (dgamma) dgamma[a] += gy[i] * xhat;
      if (dbeta) dbeta[a] += gy[i];
    }
    const T n = T(L.count());
    for (int64_t k = 0; k < L.count(); ++k) {
      const int64_t i = L.index(g, k), a = L.affine(g, k);
      const T xhat = (x[i] - mean[g]) * inv, d = gy[i] * (gamma ? gamma[a] : T(1));
      dx[i] = batch_stats ? inv * (d - sum_d / n - xhat * sum_dx / n) : d * inv;
    }
  }
}

flags make_flags(bool scale, bool shift, bool global) {
  flags f = flags::none;
  if (scale) f |= flags::use_scale;
  if (shift) f |= flags::use_shift;
  if (global) f |= flags::use_global_stats;
  return f;
}

struct Prims {
  dnnl::primitive fwd, bwd;
};

memory::desc data_desc(const Layout& L) {
  // Batch norm: channels-last rows as oneDNN's nhwc with H = W = 1 (the same memory as [rows, cols]),
  // which selects its vectorized nspc kernel; as a 2-D "ab" tensor it runs the ncsp one, 10x slower
  // for few channels.
  if (L.kind == Kind::batch)
    return memory::desc({L.rows, L.cols, 1, 1}, memory::data_type::f32, memory::format_tag::nhwc);
  return memory::desc({L.rows, L.cols}, memory::data_type::f32, memory::format_tag::ab);
}
memory::desc stat_desc(const Layout& L) {
  return memory::desc({L.groups()}, memory::data_type::f32, memory::format_tag::a);
}

Prims onednn_prims(const Layout& L, bool scale, bool shift, bool global, float eps) {
  const std::string key = std::string(L.kind == Kind::batch ? "batch_norm:" : "layer_norm:") +
                          dnnl_glue::dims_key({L.rows, L.cols}) + (scale ? ":s" : "") + (shift ? ":b" : "") +
                          (global ? ":g" : "") + ":e" + dnnl_glue::float_key(eps);
  return dnnl_glue::cached<Prims>(key, [&] {
    const auto& eng = dnnl_glue::context().engine;
    const flags f = make_flags(scale, shift, global);
    const auto bprop = scale || shift ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
    if (L.kind == Kind::batch) {
      dnnl::batch_normalization_forward::primitive_desc fpd(
          {dnnl::prop_kind::forward_training, data_desc(L), eps, f}, eng);
      dnnl::batch_normalization_backward::primitive_desc bpd({bprop, data_desc(L), data_desc(L), eps, f}, eng, fpd);
      return Prims{dnnl::batch_normalization_forward(fpd), dnnl::batch_normalization_backward(bpd)};
    }
    dnnl::layer_normalization_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, data_desc(L), stat_desc(L), eps, f}, eng);
    dnnl::layer_normalization_backward::primitive_desc bpd(
        {bprop, data_desc(L), data_desc(L), stat_desc(L), eps, f}, eng, fpd);
    return Prims{dnnl::layer_normalization_forward(fpd), dnnl::layer_normalization_backward(bpd)};
  });
}

// Normalizes x; mean/var are outputs when !global (batch statistics), inputs otherwise.
Tensor normalize(const char* op, const Layout& L, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                 Tensor mean, Tensor var, bool global, double eps) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  if (x.numel() > 0) {
    if (x.dtype() == DType::f32) {
      Prims p = onednn_prims(L, gamma.defined(), beta.defined(), global, static_cast<float>(eps));
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, dnnl_glue::wrap(x, data_desc(L))},
                                           {DNNL_ARG_DST, dnnl_glue::wrap(y, data_desc(L))},
                                           {DNNL_ARG_MEAN, dnnl_glue::wrap(mean, stat_desc(L))},
                                           {DNNL_ARG_VARIANCE, dnnl_glue::wrap(var, stat_desc(L))}};
      if (gamma.defined()) args[DNNL_ARG_SCALE] = dnnl_glue::wrap(gamma);
      if (beta.defined()) args[DNNL_ARG_SHIFT] = dnnl_glue::wrap(beta);
      dnnl_glue::execute(p.fwd, args);
    } else {
      plain_forward<double>(L, x.data<double>(), gamma.defined() ? gamma.data<double>() : nullptr,
                            beta.defined() ? beta.data<double>() : nullptr, mean.data<double>(), var.data<double>(),
                            eps, !global, y.data<double>());
    }
  }
  if (should_record({x, gamma, beta})) {
    const bool want_g = gamma.defined() && gamma.requires_grad(), want_b = beta.defined() && beta.requires_grad();
    record(op, {x, gamma, beta}, y,
           [L, xd = x.detach(), gd = gamma.defined() ? gamma.detach() : Tensor(),
            bd = beta.defined() ? beta.detach() : Tensor(), has_beta = beta.defined(), mean, var, global, eps, want_g,
            want_b](const Tensor& gy) {
             Tensor dx = Tensor::zeros(xd.shape(), xd.dtype());
             Tensor dg = gd.defined() ? Tensor::zeros({L.cols}, xd.dtype()) : Tensor();
             Tensor db = has_beta ? Tensor::zeros({L.cols}, xd.dtype()) : Tensor();
             if (xd.numel() == 0) return std::vector<Tensor>{dx, want_g ? dg : Tensor(), want_b ? db : Tensor()};
             if (xd.dtype() == DType::f32) {
               Prims p = onednn_prims(L, gd.defined(), has_beta, global, static_cast<float>(eps));
               std::unordered_map<int, memory> args{{DNNL_ARG_SRC, dnnl_glue::wrap(xd, data_desc(L))},
                                                    {DNNL_ARG_DIFF_DST, dnnl_glue::wrap(gy, data_desc(L))},
                                                    {DNNL_ARG_DIFF_SRC, dnnl_glue::wrap(dx, data_desc(L))},
                                                    {DNNL_ARG_MEAN, dnnl_glue::wrap(mean, stat_desc(L))},
                                                    {DNNL_ARG_VARIANCE, dnnl_glue::wrap(var, stat_desc(L))}};
               if (gd.defined()) {
                 args[DNNL_ARG_SCALE] = dnnl_glue::wrap(gd);
                 args[DNNL_ARG_DIFF_SCALE] = dnnl_glue::wrap(dg);
               }
               if (has_beta) {
                 args[DNNL_ARG_SHIFT] = dnnl_glue::wrap(bd);  // oneDNN requires it even though unused
                 args[DNNL_ARG_DIFF_SHIFT] = dnnl_glue::wrap(db);
               }
               dnnl_glue::execute(p.bwd, args);
             } else {
               plain_backward<double>(L, xd.data<double>(), gd.defined() ? gd.data<double>() : nullptr,
                                      mean.data<double>(), var.data<double>(), eps, !global, gy.data<double>(),
                                      dx.data<double>(), dg.defined() ? dg.data<double>() : nullptr,
                                      has_beta ? db.data<double>() : nullptr);
             }
             return std::vector<Tensor>{dx, want_g ? dg : Tensor(), want_b ? db : Tensor()};
           });
  }
  return y;
}

void check_affine(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  if (!t.defined()) return;
  KEEL_CHECK(t.dim() == 1 && t.size(0) == x.size(-1) && t.dtype() == x.dtype(), op, ": ", name, " ",
             shape_str(t.shape()), " ", dtype_name(t.dtype()), " does not match input ", shape_str(x.shape()), " ",
             dtype_name(x.dtype()));
}

void check_input(const char* op, const Tensor& x) {
  KEEL_CHECK(x.defined(), op, ": input is undefined");
  KEEL_CHECK(x.dim() >= 1, op, ": input must have at least one axis, got ", shape_str(x.shape()));
  KEEL_CHECK(is_floating(x.dtype()), op, ": input must be f32 or f64, got ", dtype_name(x.dtype()));
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Variable& moving_mean,
                  const Variable& moving_variance, const BatchNormParams& p) {
  check_input("batch_norm", x);
  check_affine("batch_norm", "gamma", gamma, x);
  check_affine("batch_norm", "beta", beta, x);
  KEEL_CHECK(moving_mean.defined() && moving_variance.defined(), "batch_norm: moving statistics are undefined");
  check_affine("batch_norm", "moving_mean", moving_mean.value(), x);
  check_affine("batch_norm", "moving_variance", moving_variance.value(), x);
  const int64_t c = x.size(-1);
  const Layout L{Kind::batch, c ? x.numel() / c : 0, c};
  if (!p.training)
    return normalize("batch_norm", L, x, gamma, beta, moving_mean.value().detach().clone(),
                     moving_variance.value().detach().clone(), true, p.epsilon);
  KEEL_CHECK(L.rows > 0, "batch_norm: training needs a non-empty batch, got ", shape_str(x.shape()));
  Tensor mean = Tensor::empty({c}, x.dtype()), var = Tensor::empty({c}, x.dtype());
  Tensor y = normalize("batch_norm", L, x, gamma, beta, mean, var, false, p.epsilon);
  NoGradGuard no_grad;
  dispatch_floating(x.dtype(), "batch_norm", [&](auto z) {
    using T = decltype(z);
    Tensor mm = moving_mean.value().detach().clone(), mv = moving_variance.value().detach().clone();
    const T m = static_cast<T>(p.momentum);
    // TensorFlow's FusedBatchNorm: batch_var = variance * n / max(n - 1, 1), n values per channel.
    const T bessel = p.unbiased_moving_variance && L.rows > 1
                         ? static_cast<T>(L.rows) / static_cast<T>(L.rows - 1) : T(1);
    for (int64_t i = 0; i < c; ++i) {
      mm.data<T>()[i] = mm.data<T>()[i] * m + mean.data<T>()[i] * (T(1) - m);
      mv.data<T>()[i] = mv.data<T>()[i] * m + var.data<T>()[i] * bessel * (T(1) - m);
    }
    moving_mean.assign(mm);
    moving_variance.assign(mv);
  });
  return y;
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon) {
  check_input("layer_norm", x);
  check_affine("layer_norm", "gamma", gamma, x);
  check_affine("layer_norm", "beta", beta, x);
  const int64_t d = x.size(-1);
  KEEL_CHECK(d > 0 || x.numel() == 0, "layer_norm: empty last axis in ", shape_str(x.shape()));
  const Layout L{Kind::layer, d ? x.numel() / d : 0, d};
  Tensor mean = Tensor::empty({L.rows}, x.dtype()), var = Tensor::empty({L.rows}, x.dtype());
  return normalize("layer_norm", L, x, gamma, beta, mean, var, false, epsilon);
}

}  // namespace keel::ops
