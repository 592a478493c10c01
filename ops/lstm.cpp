// LSTM over a sequence. f32 runs oneDNN's lstm_forward / lstm_backward: its gate order (i, f, c~, o)
// and its ldigo / ldgo weight layouts with one layer and one direction are exactly Keras's kernel
// [in, 4u], recurrent_kernel [u, 4u] and bias [4u], and the ntc layout is batch-major x [N, T, in], so
// tensors are handed over as they are (oneDNN picks its own packed weight layouts; reorders cached).
// f64 runs a plain kernel with its own backward, the reference for the gradient checks.
#include "keel/ops/lstm.h"

#include <cmath>
#include <cstring>

#include "keel/graph/node.h"
#include "keel/ops/dnnl.h"

namespace keel::ops {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

namespace {

struct Dims {
  int64_t n, t, in, u;
};

// ---- plain kernel (f64)

template <class T>
T sigmoid(T v) { return T(1) / (T(1) + std::exp(-v)); }

// Saved forward state: gates [T,N,4u] (activated), c and h [T+1,N,u] (index 0 = initial state).
struct PlainState {
  Tensor gates, c, h;
};

template <class T>
PlainState plain_forward(const Dims& d, const T* x, const T* w, const T* r, const T* b, const T* h0, const T* c0) {
  const int64_t g4 = 4 * d.u, nu = d.n * d.u;
  PlainState s{Tensor::empty({d.t, d.n, g4}, dtype_of<T>()), Tensor::empty({d.t + 1, d.n, d.u}, dtype_of<T>()),
               Tensor::empty({d.t + 1, d.n, d.u}, dtype_of<T>())};
  T *gates = s.gates.data<T>(), *c = s.c.data<T>(), *h = s.h.data<T>();
  std::memcpy(c, c0, sizeof(T) * nu);
  std::memcpy(h, h0, sizeof(T) * nu);
  std::vector<T> z(static_cast<size_t>(g4));
  for (int64_t t = 0; t < d.t; ++t)
    for (int64_t n = 0; n < d.n; ++n) {
      const T* xt = x + (n * d.t + t) * d.in;
      const T* hp = h + t * nu + n * d.u;
      for (int64_t k = 0; k < g4; ++k) {
        T acc = b ? b[k] : T(0);
        for (int64_t i = 0; i < d.in; ++i) acc += xt[i] * w[i * g4 + k];
        for (int64_t i = 0; i < d.u; ++i) acc += hp[i] * r[i * g4 + k];
        z[k] = acc;
      }
      T* gt = gates + (t * d.n + n) * g4;
      const T* cp = c + t * nu + n * d.u;
      T* cn = c + (t + 1) * nu + n * d.u;
      T* hn = h + (t + 1) * nu + n * d.u;
      for (int64_t k = 0; k < d.u; ++k) {
        const T ig = sigmoid(z[k]), fg = sigmoid(z[d.u + k]), cg = std::tanh(z[2 * d.u + k]),
                og = sigmoid(z[3 * d.u + k]);
        gt[k] = ig, gt[d.u + k] = fg, gt[2 * d.u + k] = cg, gt[3 * d.u + k] = og;
        cn[k] = fg * cp[k] + ig * cg;
        hn[k] = og * std::tanh(cn[k]);
      }
    }
  return s;
}

// gy_seq [N,T,u] or null; gh, gc [N,u] or null. Outputs are accumulated into zeroed buffers.
template <class T>
void plain_backward(const Dims& d, const PlainState& s, const T* x, const T* w, const T* r, const T* gy_seq,
                    const T* gh, const T* gc, T* dx, T* dw, T* dr, T* db, T* dh0, T* dc0) {
  const int64_t g4 = 4 * d.u, nu = d.n * d.u;
  const T *gates = s.gates.data<T>(), *c = s.c.data<T>(), *h = s.h.data<T>();
  std::vector<T> dh(static_cast<size_t>(nu)), dc(static_cast<size_t>(nu)), dz(static_cast<size_t>(g4));
  for (int64_t i = 0; i < nu; ++i) {
    dh[i] = gh ? gh[i] : T(0);
    dc[i] = gc ? gc[i] : T(0);
  }
  for (int64_t t = d.t - 1; t >= 0; --t) {
    std::vector<T> dh_prev(static_cast<size_t>(nu), T(0));
    for (int64_t n = 0; n < d.n; ++n) {
      const T* gt = gates + (t * d.n + n) * g4;
      const T* ct = c + (t + 1) * nu + n * d.u;
      const T* cp = c + t * nu + n * d.u;
      const T* hp = h + t * nu + n * d.u;
      const T* xt = x + (n * d.t + t) * d.in;
      for (int64_t k = 0; k < d.u; ++k) {
        T dhk = dh[n * d.u + k] + (gy_seq ? gy_seq[(n * d.t + t) * d.u + k] : T(0));
        const T ig = gt[k], fg = gt[d.u + k], cg = gt[2 * d.u + k], og = gt[3 * d.u + k];
        const T tc = std::tanh(ct[k]);
        const T dck = dc[n * d.u + k] + dhk * og * (T(1) - tc * tc);
        dz[k] = dck * cg * ig * (T(1) - ig);
        dz[d.u + k] = dck * cp[k] * fg * (T(1) - fg);
        dz[2 * d.u + k] = dck * ig * (T(1) - cg * cg);
        dz[3 * d.u + k] = dhk * tc * og * (T(1) - og);
        dc[n * d.u + k] = dck * fg;
      }
      for (int64_t k = 0; k < g4; ++k) {
        db[k] += dz[k];
        for (int64_t i = 0; i < d.in; ++i) {
          dw[i * g4 + k] += xt[i] * dz[k];
          dx[(n * d.t + t) * d.in + i] += w[i * g4 + k] * dz[k];
        }
        for (int64_t i = 0; i < d.u; ++i) {
          dr[i * g4 + k] += hp[i] * dz[k];
          dh_prev[n * d.u + i] += r[i * g4 + k] * dz[k];
        }
      }
    }
    dh = dh_prev;
  }
  for (int64_t i = 0; i < nu; ++i) {
    dh0[i] = dh[i];
    dc0[i] = dc[i];
  }
}

// ---- oneDNN (f32)

memory::desc md(const memory::dims& dims, tag t) { return memory::desc(dims, memory::data_type::f32, t); }
memory::desc any(const memory::dims& dims) { return md(dims, tag::any); }

struct Descs {
  memory::desc x, h0, w, r, b, y, hn;
};
Descs user_descs(const Dims& d) {
  return {md({d.t, d.n, d.in}, tag::ntc),      md({1, 1, d.n, d.u}, tag::ldnc), md({1, 1, d.in, 4, d.u}, tag::ldigo),
          md({1, 1, d.u, 4, d.u}, tag::ldigo), md({1, 1, 4, d.u}, tag::ldgo),   md({d.t, d.n, d.u}, tag::ntc),
          md({1, 1, d.n, d.u}, tag::ldnc)};
}

std::string lstm_key(const Dims& d) { return dnnl_glue::dims_key({d.n, d.t, d.in, d.u}); }

struct Fwd {
  dnnl::lstm_forward::primitive_desc pd;
  dnnl::lstm_forward prim;
};
Fwd forward_prim(const Dims& d) {
  return dnnl_glue::cached<Fwd>("lstm:fwd:" + lstm_key(d), [&] {
    const Descs u = user_descs(d);
    dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::rnn_direction::unidirectional_left2right,
                                  u.x, u.h0, u.h0, any(u.w.dims()), any(u.r.dims()), u.b, u.y, u.hn, u.hn);
    Fwd f{dnnl::lstm_forward::primitive_desc(desc, dnnl_glue::context().engine), {}};
    f.prim = dnnl::lstm_forward(f.pd);
    return f;
  });
}

struct Bwd {
  dnnl::lstm_backward::primitive_desc pd;
  dnnl::lstm_backward prim;
};
Bwd backward_prim(const Dims& d) {
  return dnnl_glue::cached<Bwd>("lstm:bwd:" + lstm_key(d), [&] {
    const Descs u = user_descs(d);
    dnnl::lstm_backward::desc desc(dnnl::prop_kind::backward, dnnl::rnn_direction::unidirectional_left2right, u.x,
                                   u.h0, u.h0, any(u.w.dims()), any(u.r.dims()), u.b, u.y, u.hn, u.hn, u.x, u.h0,
                                   u.h0, any(u.w.dims()), any(u.r.dims()), u.b, u.y, u.hn, u.hn);
    Bwd b{dnnl::lstm_backward::primitive_desc(desc, dnnl_glue::context().engine, forward_prim(d).pd), {}};
    b.prim = dnnl::lstm_backward(b.pd);
    return b;
  });
}

memory wrap_as(const Tensor& t, const memory::desc& desc) { return dnnl_glue::wrap(t, desc); }

// Copies `from` (any layout) into the user tensor `to` of layout `to_desc`.
void reorder_out(const memory& from, const Tensor& to, const memory::desc& to_desc, const std::string& key) {
  memory dst = wrap_as(to, to_desc);
  if (from.get_desc() == to_desc) {
    if (from.get_data_handle() != dst.get_data_handle())
      std::memcpy(dst.get_data_handle(), from.get_data_handle(), to_desc.get_size());
    return;
  }
  auto prim = dnnl_glue::cached<dnnl::reorder>("reorder:" + key, [&] { return dnnl::reorder(from, dst); });
  dnnl_glue::execute(prim, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, dst}});
}

void check_2d(const Tensor& t, const char* name, int64_t rows, int64_t cols, DType dt, const Tensor& x) {
  KEEL_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) == cols && t.dtype() == dt, "lstm: ", name, " ",
             shape_str(t.shape()), " ", dtype_name(t.dtype()), " does not match [", rows, ",", cols, "] ",
             dtype_name(dt), " for input ", shape_str(x.shape()));
}

}  // namespace

LSTMResult lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                const Tensor& h0, const Tensor& c0, bool return_sequences) {
  KEEL_CHECK(x.defined() && kernel.defined() && recurrent_kernel.defined(),
             "lstm: input, kernel and recurrent_kernel must be defined");
  KEEL_CHECK(x.dim() == 3, "lstm: input must be [N,T,in], got ", shape_str(x.shape()));
  KEEL_CHECK(is_floating(x.dtype()), "lstm: input must be f32 or f64, got ", dtype_name(x.dtype()));
  KEEL_CHECK(recurrent_kernel.dim() == 2 && recurrent_kernel.size(1) == 4 * recurrent_kernel.size(0) &&
                 recurrent_kernel.size(0) > 0,
             "lstm: recurrent_kernel must be [units, 4*units], got ", shape_str(recurrent_kernel.shape()));
  const Dims d{x.size(0), x.size(1), x.size(2), recurrent_kernel.size(0)};
  const DType dt = x.dtype();
  check_2d(kernel, "kernel", d.in, 4 * d.u, dt, x);
  check_2d(recurrent_kernel, "recurrent_kernel", d.u, 4 * d.u, dt, x);
  if (bias.defined())
    KEEL_CHECK(bias.dim() == 1 && bias.size(0) == 4 * d.u && bias.dtype() == dt, "lstm: bias ",
               shape_str(bias.shape()), " ", dtype_name(bias.dtype()), " does not match [", 4 * d.u, "] ",
               dtype_name(dt), " for input ", shape_str(x.shape()));
  if (h0.defined()) check_2d(h0, "initial h", d.n, d.u, dt, x);
  if (c0.defined()) check_2d(c0, "initial c", d.n, d.u, dt, x);
  KEEL_CHECK(d.t > 0, "lstm: input ", shape_str(x.shape()), " has no time steps");
  const Tensor b = bias.defined() ? bias : Tensor::zeros({4 * d.u}, dt);
  const Tensor h_init = h0.defined() ? h0 : Tensor::zeros({d.n, d.u}, dt);
  const Tensor c_init = c0.defined() ? c0 : Tensor::zeros({d.n, d.u}, dt);

  LSTMResult res;
  res.h = Tensor::empty({d.n, d.u}, dt);
  res.c = Tensor::empty({d.n, d.u}, dt);
  Tensor seq;  // [N,T,u], all outputs
  memory workspace;
  PlainState plain;
  if (d.n == 0) {
    seq = Tensor::empty({d.n, d.t, d.u}, dt);
  } else if (dt == DType::f32) {
    const Descs u = user_descs(d);
    Fwd f = forward_prim(d);
    const std::string key = lstm_key(d);
    seq = Tensor::empty({d.n, d.t, d.u}, dt);
    workspace = memory(f.pd.workspace_desc(), dnnl_glue::context().engine);
    dnnl_glue::execute(
        f.prim, {{DNNL_ARG_SRC_LAYER, wrap_as(x, u.x)},
                 {DNNL_ARG_SRC_ITER, wrap_as(h_init, u.h0)},
                 {DNNL_ARG_SRC_ITER_C, wrap_as(c_init, u.h0)},
                 {DNNL_ARG_WEIGHTS_LAYER, dnnl_glue::reorder_to(wrap_as(kernel, u.w), f.pd.weights_layer_desc(), "lstm:w:" + key)},
                 {DNNL_ARG_WEIGHTS_ITER, dnnl_glue::reorder_to(wrap_as(recurrent_kernel, u.r), f.pd.weights_iter_desc(), "lstm:r:" + key)},
                 {DNNL_ARG_BIAS, wrap_as(b, u.b)},
                 {DNNL_ARG_DST_LAYER, wrap_as(seq, u.y)},
                 {DNNL_ARG_DST_ITER, wrap_as(res.h, u.hn)},
                 {DNNL_ARG_DST_ITER_C, wrap_as(res.c, u.hn)},
                 {DNNL_ARG_WORKSPACE, workspace}});
  } else {
    plain = plain_forward<double>(d, x.data<double>(), kernel.data<double>(), recurrent_kernel.data<double>(),
                                  b.data<double>(), h_init.data<double>(), c_init.data<double>());
    seq = Tensor::empty({d.n, d.t, d.u}, dt);
    const double* hs = plain.h.data<double>();
    for (int64_t t = 0; t < d.t; ++t)
      for (int64_t n = 0; n < d.n; ++n)
        std::memcpy(seq.data<double>() + (n * d.t + t) * d.u, hs + ((t + 1) * d.n + n) * d.u, sizeof(double) * d.u);
    std::memcpy(res.h.data<double>(), hs + d.t * d.n * d.u, sizeof(double) * d.n * d.u);
    std::memcpy(res.c.data<double>(), plain.c.data<double>() + d.t * d.n * d.u, sizeof(double) * d.n * d.u);
  }
  res.output = return_sequences ? seq : res.h.clone();

  if (should_record({x, kernel, recurrent_kernel, bias, h0, c0})) {
    const bool want_b = bias.defined(), want_h0 = h0.defined(), want_c0 = c0.defined();
    auto fn = [d, return_sequences, want_b, want_h0, want_c0, workspace, plain, xd = x.detach(),
               wd = kernel.detach(), rd = recurrent_kernel.detach(), bd = b.detach(), h_init = h_init.detach(),
               c_init = c_init.detach(), seq = seq.detach(), hn = res.h.detach(),
               cn = res.c.detach()](std::vector<Tensor>&& g) {
      const DType dt = xd.dtype();
      // Gradients at the full sequence and the final states.
      Tensor g_seq = return_sequences && g[0].defined() ? g[0] : Tensor::zeros({d.n, d.t, d.u}, dt);
      Tensor g_h = g[1].defined() ? g[1].clone() : Tensor::zeros({d.n, d.u}, dt);
      if (!return_sequences && g[0].defined()) g_h.add_(g[0]);
      Tensor g_c = g[2].defined() ? g[2] : Tensor::zeros({d.n, d.u}, dt);
      Tensor dx = Tensor::zeros(xd.shape(), dt), dw = Tensor::zeros(wd.shape(), dt),
             dr = Tensor::zeros(rd.shape(), dt), db = Tensor::zeros(bd.shape(), dt),
             dh0 = Tensor::zeros({d.n, d.u}, dt), dc0 = Tensor::zeros({d.n, d.u}, dt);
      if (d.n > 0 && dt == DType::f32) {
        const Descs u = user_descs(d);
        const std::string key = lstm_key(d);
        Bwd b = backward_prim(d);
        const auto& eng = dnnl_glue::context().engine;
        memory dwm = b.pd.diff_weights_layer_desc() == u.w ? wrap_as(dw, u.w) : memory(b.pd.diff_weights_layer_desc(), eng);
        memory drm = b.pd.diff_weights_iter_desc() == u.r ? wrap_as(dr, u.r) : memory(b.pd.diff_weights_iter_desc(), eng);
        std::memset(dwm.get_data_handle(), 0, dwm.get_desc().get_size());
        std::memset(drm.get_data_handle(), 0, drm.get_desc().get_size());
        dnnl_glue::execute(
            b.prim,
            {{DNNL_ARG_SRC_LAYER, wrap_as(xd, u.x)},
             {DNNL_ARG_SRC_ITER, wrap_as(h_init, u.h0)},
             {DNNL_ARG_SRC_ITER_C, wrap_as(c_init, u.h0)},
             {DNNL_ARG_WEIGHTS_LAYER, dnnl_glue::reorder_to(wrap_as(wd, u.w), b.pd.weights_layer_desc(), "lstm:bw:" + key)},
             {DNNL_ARG_WEIGHTS_ITER, dnnl_glue::reorder_to(wrap_as(rd, u.r), b.pd.weights_iter_desc(), "lstm:br:" + key)},
             {DNNL_ARG_BIAS, wrap_as(bd, u.b)},
             {DNNL_ARG_DST_LAYER, wrap_as(seq, u.y)},
             {DNNL_ARG_DST_ITER, wrap_as(hn, u.hn)},
             {DNNL_ARG_DST_ITER_C, wrap_as(cn, u.hn)},
             {DNNL_ARG_WORKSPACE, workspace},
             {DNNL_ARG_DIFF_SRC_LAYER, wrap_as(dx, u.x)},
             {DNNL_ARG_DIFF_SRC_ITER, wrap_as(dh0, u.h0)},
             {DNNL_ARG_DIFF_SRC_ITER_C, wrap_as(dc0, u.h0)},
             {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwm},
             {DNNL_ARG_DIFF_WEIGHTS_ITER, drm},
             {DNNL_ARG_DIFF_BIAS, wrap_as(db, u.b)},
             {DNNL_ARG_DIFF_DST_LAYER, wrap_as(g_seq, u.y)},
             {DNNL_ARG_DIFF_DST_ITER, wrap_as(g_h, u.hn)},
             {DNNL_ARG_DIFF_DST_ITER_C, wrap_as(g_c, u.hn)}});
        reorder_out(dwm, dw, u.w, "lstm:dw:" + key);
        reorder_out(drm, dr, u.r, "lstm:dr:" + key);
      } else if (d.n > 0) {
        plain_backward<double>(d, plain, xd.data<double>(), wd.data<double>(), rd.data<double>(),
                               return_sequences ? g_seq.data<double>() : nullptr, g_h.data<double>(),
                               g_c.data<double>(), dx.data<double>(), dw.data<double>(), dr.data<double>(),
                               db.data<double>(), dh0.data<double>(), dc0.data<double>());
      }
      return std::vector<Tensor>{dx, dw, dr, want_b ? db : Tensor(), want_h0 ? dh0 : Tensor(), want_c0 ? dc0 : Tensor()};
    };
    record_multi("lstm", {x, kernel, recurrent_kernel, bias, h0, c0}, {&res.output, &res.h, &res.c}, fn);
  }
  return res;
}

}  // namespace keel::ops
