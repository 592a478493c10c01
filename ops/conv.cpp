// conv2d: NHWC / HWIO at the API. f32 runs on oneDNN (layouts chosen by oneDNN, reorders cached);
// f64 runs a plain kernel with its own backward (the reference the gradient checks use).
#include "keel/ops/conv.h"

#include <cmath>
#include <cstring>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/detail/linalg_kernels.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"

namespace keel::ops {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

Padding padding_from_name(const std::string& name) {
  if (name == "valid") return Padding::valid;
  if (name == "same") return Padding::same;
  KEEL_FAIL("padding: unknown padding '", name, "' (expected 'valid' or 'same')");
}

ConvGeometry conv_geometry(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, Padding pad) {
  KEEL_CHECK(in >= 0 && kernel >= 1 && stride >= 1 && dilation >= 1, "conv_geometry: invalid input ", in,
             ", kernel ", kernel, ", stride ", stride, ", dilation ", dilation);
  // Checked arithmetic: huge strides or dilations wrapped, and a 'same' convolution with stride
  // INT64_MAX came out empty and was reported as smaller than its kernel "with valid padding".
  int64_t eff = 0;
  KEEL_CHECK(!__builtin_mul_overflow(kernel - 1, dilation, &eff) && !__builtin_add_overflow(eff, 1, &eff),
             "conv_geometry: kernel ", kernel, " with dilation ", dilation, " spans more than int64 counts");
  ConvGeometry g;
  if (pad == Padding::valid) {
    g.out = in >= eff ? (in - eff) / stride + 1 : 0;
    return g;
  }
  g.out = in / stride + (in % stride != 0);
  int64_t span = 0;  // (out - 1) * stride + eff
  KEEL_CHECK(!__builtin_mul_overflow(std::max<int64_t>(g.out - 1, 0), stride, &span) &&
                 !__builtin_add_overflow(span, eff, &span),
             "conv_geometry: 'same' padding for input ", in, ", kernel ", kernel, ", stride ", stride, ", dilation ",
             dilation, " overflows int64");
  const int64_t total = g.out > 0 ? std::max<int64_t>(span - in, 0) : std::max<int64_t>(eff - stride, 0);
  g.pad_before = total / 2;
  g.pad_after = total - g.pad_before;
  return g;
}

namespace {

// Activations oneDNN fuses into the convolution and whose derivative follows from the output.
bool fusable(Activation a) {
  return a == Activation::linear || (linalg_detail::fusable(a) && linalg_detail::grad_from_output(a));
}

struct Geo {
  int64_t n, h, w, c, kh, kw, o, oh, ow;
  int64_t sh, sw, dh, dw, ph, pw, ph_after, pw_after;
};

// Plain NHWC x HWIO kernel: y = conv(x, w) + b (bias may be null).
template <class T>
void plain_forward(const Geo& g, const T* x, const T* w, const T* b, T* y) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        T* out = y + ((n * g.oh + i) * g.ow + j) * g.o;
        for (int64_t o = 0; o < g.o; ++o) out[o] = b ? b[o] : T(0);
        for (int64_t ki = 0; ki < g.kh; ++ki) {
          const int64_t hi = i * g.sh - g.ph + ki * g.dh;
          if (hi < 0 || hi >= g.h) continue;
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const int64_t wj = j * g.sw - g.pw + kj * g.dw;
            if (wj < 0 || wj >= g.w) continue;
            const T* in = x + ((n * g.h + hi) * g.w + wj) * g.c;
            const T* wk = w + (ki * g.kw + kj) * g.c * g.o;
            for (int64_t c = 0; c < g.c; ++c)
              for (int64_t o = 0; o < g.o; ++o) out[o] += in[c] * wk[c * g.o + o];
          }
        }
      }
}

// Plain backward: any of dx, dw, db may be null.
template <class T>
void plain_backward(const Geo& g, const T* x, const T* w, const T* gy, T* dx, T* dw, T* db) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        const T* go = gy + ((n * g.oh + i) * g.ow + j) * g.o;
        if (db)
          for (int64_t o = 0; o < g.o; ++o) db[o] += go[o];
        for (int64_t ki = 0; ki < g.kh; ++ki) {
          const int64_t hi = i * g.sh - g.ph + ki * g.dh;
          if (hi < 0 || hi >= g.h) continue;
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const int64_t wj = j * g.sw - g.pw + kj * g.dw;
            if (wj < 0 || wj >= g.w) continue;
            const int64_t xo = ((n * g.h + hi) * g.w + wj) * g.c, wo = (ki * g.kw + kj) * g.c * g.o;
            for (int64_t c = 0; c < g.c; ++c)
              for (int64_t o = 0; o < g.o; ++o) {
                if (dx) dx[xo + c] += go[o] * w[wo + c * g.o + o];
                if (dw) dw[wo + c * g.o + o] += go[o] * x[xo + c];
              }
          }
        }
      }
}

struct Descs {
  memory::dims src, wei, bias, dst, strides, dil, pl, pr;
  // The layout asked of oneDNN for x, y and their gradients: keel's own NHWC when the input has fewer
  // channels than a SIMD block, oneDNN's choice otherwise. A first layer (1 or 3 channels) gains nothing
  // from a blocked layout but pays a reorder of y and of its gradient each step, and on AVX2 oneDNN 2.6's
  // backward-weights kernel for a 1-channel input into 8-channel blocks ran 3-4x slower than its NHWC
  // kernel (N=32 and 256, 28x28, 16 filters); deeper layers keep the blocked layouts, whose kernels
  // were ~20% faster there.
  tag io = tag::any;
  std::string key;
};

Descs make_descs(const Geo& g, bool has_bias, Activation act) {
  Descs d;
  d.src = {g.n, g.c, g.h, g.w};
  d.wei = {g.o, g.c, g.kh, g.kw};
  d.bias = {g.o};
  d.dst = {g.n, g.o, g.oh, g.ow};
  d.io = g.c < 8 ? tag::nhwc : tag::any;
  d.strides = {g.sh, g.sw};
  d.dil = {g.dh - 1, g.dw - 1};
  d.pl = {g.ph, g.pw};
  d.pr = {g.ph_after, g.pw_after};
  d.key = dnnl_glue::dims_key(d.src) + ":" + dnnl_glue::dims_key(d.wei) + ":s" + dnnl_glue::dims_key(d.strides) +
          ":d" + dnnl_glue::dims_key(d.dil) + ":p" + dnnl_glue::dims_key(d.pl) + "/" +
          dnnl_glue::dims_key(d.pr) + (has_bias ? ":b" : ":nb") + ":a" + std::to_string(static_cast<int>(act));
  return d;
}

memory::desc any_desc(const memory::dims& dims) { return memory::desc(dims, memory::data_type::f32, tag::any); }
memory::desc tagged(const memory::dims& dims, tag t) { return memory::desc(dims, memory::data_type::f32, t); }
// x or y (or their gradients) as Descs::io asks.
memory::desc io_desc(const Descs& d, const memory::dims& dims) { return tagged(dims, d.io); }

dnnl::algorithm eltwise_alg(Activation a) {
  switch (a) {
    case Activation::relu: return dnnl::algorithm::eltwise_relu;
    case Activation::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case Activation::tanh: return dnnl::algorithm::eltwise_tanh;
    case Activation::elu: return dnnl::algorithm::eltwise_elu;
    case Activation::exponential: return dnnl::algorithm::eltwise_exp;
    default: return dnnl::algorithm::eltwise_soft_relu;
  }
}

struct Fwd {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
};

Fwd forward_primitive(const Descs& d, bool has_bias, Activation act) {
  return dnnl_glue::cached<Fwd>("conv2d:fwd:" + d.key, [&] {
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, io_desc(d, d.src), any_desc(d.wei),
        has_bias ? tagged(d.bias, tag::a) : memory::desc(), io_desc(d, d.dst), d.strides, d.dil, d.pl, d.pr);
    dnnl::primitive_attr attr;
    if (act != Activation::linear) {
      dnnl::post_ops po;
      po.append_eltwise(1.f, eltwise_alg(act), act == Activation::elu ? 1.f : 0.f, 0.f);
      attr.set_post_ops(po);
    }
    Fwd f{dnnl::convolution_forward::primitive_desc(desc, attr, dnnl_glue::context().engine), {}};
    f.prim = dnnl::convolution_forward(f.pd);
    return f;
  });
}

void onednn_forward(const Geo& g, const Descs& d, const Tensor& x, const Tensor& w, const Tensor& b, Activation act,
                    Tensor& y) {
  const auto& eng = dnnl_glue::context().engine;
  Fwd f = forward_primitive(d, b.defined(), act);
  memory xs = dnnl_glue::reorder_to(memory(tagged(d.src, tag::nhwc), eng, const_cast<void*>(x.raw_data())),
                                    f.pd.src_desc(), "conv2d:src:" + d.key);
  memory ws = dnnl_glue::reorder_to(memory(tagged(d.wei, tag::hwio), eng, const_cast<void*>(w.raw_data())),
                                    f.pd.weights_desc(), "conv2d:wei:" + d.key);
  memory user_y(tagged(d.dst, tag::nhwc), eng, y.raw_data());
  const bool direct = f.pd.dst_desc() == user_y.get_desc();
  memory ys = direct ? user_y : memory(f.pd.dst_desc(), eng);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xs}, {DNNL_ARG_WEIGHTS, ws}, {DNNL_ARG_DST, ys}};
  if (b.defined()) args[DNNL_ARG_BIAS] = dnnl_glue::wrap(b);
  dnnl_glue::execute(f.prim, args);
  if (!direct) {
    auto r = dnnl_glue::cached<dnnl::reorder>("reorder:conv2d:dst:" + d.key, [&] {
      return dnnl::reorder(ys, user_y);
    });
    dnnl_glue::execute(r, {{DNNL_ARG_FROM, ys}, {DNNL_ARG_TO, user_y}});
  }
  (void)g;
}

// Gradients w.r.t. x, kernel, bias from gy (the gradient at the pre-activation output).
void onednn_backward(const Descs& d, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor* dx, Tensor* dw,
                     Tensor* db, bool has_bias, Activation act) {
  const auto& eng = dnnl_glue::context().engine;
  Fwd f = forward_primitive(d, has_bias, act);
  memory gys_user(tagged(d.dst, tag::nhwc), eng, const_cast<void*>(gy.raw_data()));
  if (dx) {
    struct Bwd { dnnl::convolution_backward_data::primitive_desc pd; dnnl::convolution_backward_data prim; };
    Bwd bd = dnnl_glue::cached<Bwd>("conv2d:bwd_data:" + d.key, [&] {
      dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, io_desc(d, d.src),
                                                 any_desc(d.wei), io_desc(d, d.dst), d.strides, d.dil, d.pl, d.pr);
      Bwd r{dnnl::convolution_backward_data::primitive_desc(desc, eng, f.pd), {}};
      r.prim = dnnl::convolution_backward_data(r.pd);
      return r;
    });
    memory ws = dnnl_glue::reorder_to(memory(tagged(d.wei, tag::hwio), eng, const_cast<void*>(w.raw_data())),
                                      bd.pd.weights_desc(), "conv2d:bwd_data_wei:" + d.key);
    memory gys = dnnl_glue::reorder_to(gys_user, bd.pd.diff_dst_desc(), "conv2d:bwd_data_dst:" + d.key);
    memory user_dx(tagged(d.src, tag::nhwc), eng, dx->raw_data());
    memory dxs = bd.pd.diff_src_desc() == user_dx.get_desc() ? user_dx : memory(bd.pd.diff_src_desc(), eng);
    dnnl_glue::execute(bd.prim, {{DNNL_ARG_DIFF_DST, gys}, {DNNL_ARG_WEIGHTS, ws}, {DNNL_ARG_DIFF_SRC, dxs}});
    if (dxs != user_dx) {
      auto r = dnnl_glue::cached<dnnl::reorder>("reorder:conv2d:dx:" + d.key, [&] { return dnnl::reorder(dxs, user_dx); });
      dnnl_glue::execute(r, {{DNNL_ARG_FROM, dxs}, {DNNL_ARG_TO, user_dx}});
    }
  }
  if (dw || db) {
    const bool with_bias = db != nullptr;
    struct Bwd { dnnl::convolution_backward_weights::primitive_desc pd; dnnl::convolution_backward_weights prim; };
    Bwd bw = dnnl_glue::cached<Bwd>("conv2d:bwd_wei:" + d.key + (with_bias ? ":db" : ":nodb"), [&] {
      dnnl::convolution_backward_weights::desc desc(
          dnnl::algorithm::convolution_direct, io_desc(d, d.src), any_desc(d.wei),
          with_bias ? tagged(d.bias, tag::a) : memory::desc(), io_desc(d, d.dst), d.strides, d.dil, d.pl, d.pr);
      Bwd r{dnnl::convolution_backward_weights::primitive_desc(desc, eng, f.pd), {}};
      r.prim = dnnl::convolution_backward_weights(r.pd);
      return r;
    });
    memory xs = dnnl_glue::reorder_to(memory(tagged(d.src, tag::nhwc), eng, const_cast<void*>(x.raw_data())),
                                      bw.pd.src_desc(), "conv2d:bwd_wei_src:" + d.key);
    memory gys = dnnl_glue::reorder_to(gys_user, bw.pd.diff_dst_desc(), "conv2d:bwd_wei_dst:" + d.key);
    Tensor dw_tmp = dw ? Tensor() : Tensor::empty(w.shape(), DType::f32);
    memory user_dw(tagged(d.wei, tag::hwio), eng, dw ? dw->raw_data() : dw_tmp.raw_data());
    memory dws = bw.pd.diff_weights_desc() == user_dw.get_desc() ? user_dw : memory(bw.pd.diff_weights_desc(), eng);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xs}, {DNNL_ARG_DIFF_DST, gys}, {DNNL_ARG_DIFF_WEIGHTS, dws}};
    if (with_bias) args[DNNL_ARG_DIFF_BIAS] = dnnl_glue::wrap(*db);
    dnnl_glue::execute(bw.prim, args);
    if (dw && dws != user_dw) {
      auto r = dnnl_glue::cached<dnnl::reorder>("reorder:conv2d:dw:" + d.key, [&] { return dnnl::reorder(dws, user_dw); });
      dnnl_glue::execute(r, {{DNNL_ARG_FROM, dws}, {DNNL_ARG_TO, user_dw}});
    }
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& kernel, const Tensor& bias, const Conv2DParams& p) {
  KEEL_CHECK(x.defined() && kernel.defined(), "conv2d: input and kernel must be defined");
  KEEL_CHECK(x.dim() == 4, "conv2d: input must be [N,H,W,C], got ", shape_str(x.shape()));
  KEEL_CHECK(kernel.dim() == 4, "conv2d: kernel must be [kh,kw,in,out], got ", shape_str(kernel.shape()));
  KEEL_CHECK(x.dtype() == kernel.dtype() && is_floating(x.dtype()), "conv2d: input ", dtype_name(x.dtype()),
             " and kernel ", dtype_name(kernel.dtype()), " must be the same floating dtype");
  KEEL_CHECK(x.size(3) == kernel.size(2), "conv2d: input ", shape_str(x.shape()), " has ", x.size(3),
             " channels but kernel ", shape_str(kernel.shape()), " expects ", kernel.size(2));
  if (bias.defined())
    KEEL_CHECK(bias.dim() == 1 && bias.size(0) == kernel.size(3) && bias.dtype() == x.dtype(), "conv2d: bias ",
               shape_str(bias.shape()), " ", dtype_name(bias.dtype()), " does not match kernel ",
               shape_str(kernel.shape()), " with ", kernel.size(3), " filters");
  KEEL_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1,
             "conv2d: strides (", p.stride_h, ",", p.stride_w, ") and dilation (", p.dilation_h, ",",
             p.dilation_w, ") must be >= 1");
  // Activations whose derivative needs their input (or a whole row, softmax) run after a linear
  // convolution; so do all of them when an f32 input is not finite (the post-op would lose a NaN).
  if (!fusable(p.act) ||
      (p.act != Activation::linear && x.dtype() == DType::f32 && !linalg_detail::post_op_safe(x, kernel, bias)))
    return activate(conv2d(x, kernel, bias, Conv2DParams(p).activation(Activation::linear)), p.act);
  KEEL_CHECK(kernel.size(0) >= 1 && kernel.size(1) >= 1, "conv2d: empty kernel ", shape_str(kernel.shape()));
  const ConvGeometry gh = conv_geometry(x.size(1), kernel.size(0), p.stride_h, p.dilation_h, p.pad);
  const ConvGeometry gw = conv_geometry(x.size(2), kernel.size(1), p.stride_w, p.dilation_w, p.pad);
  KEEL_CHECK(gh.out > 0 && gw.out > 0, "conv2d: input ", shape_str(x.shape()), " is smaller than the dilated kernel ",
             shape_str(kernel.shape()), " with valid padding");
  const Geo g{x.size(0), x.size(1), x.size(2), x.size(3), kernel.size(0), kernel.size(1), kernel.size(3),
              gh.out, gw.out, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
              gh.pad_before, gw.pad_before, gh.pad_after, gw.pad_after};
  const bool empty = x.numel() == 0 || g.oh * g.ow * g.o == 0 || kernel.numel() == 0;
  // Both kernels write every output element; an empty convolution gives zeros.
  Tensor y = empty ? Tensor::empty({g.n, g.oh, g.ow, g.o}, x.dtype())
                   : Tensor::uninitialized({g.n, g.oh, g.ow, g.o}, x.dtype());
  const Descs d = make_descs(g, bias.defined(), p.act);
  if (x.dtype() == DType::f32 && !empty) {
    try {
      onednn_forward(g, d, x, kernel, bias, p.act, y);
    } catch (const dnnl::error& e) {
      KEEL_FAIL("conv2d: oneDNN cannot run input ", shape_str(x.shape()), " with kernel ", shape_str(kernel.shape()),
                ", strides (", p.stride_h, ",", p.stride_w, "), dilation (", p.dilation_h, ",", p.dilation_w,
                "), padding (", g.ph, ",", g.pw, "): ", e.what());
    }
  } else if (!empty) {
    const double* b = bias.defined() ? bias.data<double>() : nullptr;
    plain_forward(g, x.data<double>(), kernel.data<double>(), b, y.data<double>());
    linalg_detail::activate_(y, p.act);
  } else if (y.numel() > 0) {
    // No input channels: every output is act(bias) (act(0) without a bias).
    if (bias.defined()) {
      NoGradGuard unrecorded;  // conv2d records itself below
      y = add(y, bias);
    }
    linalg_detail::activate_(y, p.act);
  }
  if (should_record({x, kernel, bias})) {
    const bool want_x = x.requires_grad(), want_w = kernel.requires_grad(), want_b = bias.defined() && bias.requires_grad();
    record("conv2d", {x, kernel, bias}, y,
           [g, d, act = p.act, xs = SavedTensor(x), ws = SavedTensor(kernel), ys = SavedTensor(y), has_bias = bias.defined(),
            want_x, want_w, want_b](const Tensor& gout) {
             const Tensor &xd = xs, &wd = ws, &yd = ys;
             const Tensor gy = linalg_detail::activation_grad(gout, yd, Tensor(), act);
             Tensor dx = want_x ? Tensor::zeros(xd.shape(), xd.dtype()) : Tensor();
             Tensor dw = want_w ? Tensor::zeros(wd.shape(), wd.dtype()) : Tensor();
             Tensor db = want_b ? Tensor::zeros({g.o}, xd.dtype()) : Tensor();
             if (want_b && gy.numel() > 0 && (xd.numel() == 0 || wd.numel() == 0)) db = sum(gy, {0, 1, 2});
             if (gy.numel() > 0 && xd.numel() > 0 && wd.numel() > 0) {
               if (xd.dtype() == DType::f32) {
                 onednn_backward(d, xd, wd, gy, want_x ? &dx : nullptr, want_w ? &dw : nullptr,
                                 want_b ? &db : nullptr, has_bias, act);
               } else {
                 plain_backward(g, xd.data<double>(), wd.data<double>(), gy.data<double>(),
                                want_x ? dx.data<double>() : nullptr, want_w ? dw.data<double>() : nullptr,
                                want_b ? db.data<double>() : nullptr);
               }
             }
             return std::vector<Tensor>{dx, dw, db};
           });
  }
  return y;
}

}  // namespace keel::ops
