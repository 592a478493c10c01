// Max / average pooling (NHWC) on oneDNN for f32, plain kernels for f64; global average pooling.
#include "keel/ops/pool.h"

#include <limits>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/dnnl.h"

namespace keel::ops {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

namespace {

struct PoolGeo {
  int64_t n, h, w, c, ph, pw, sh, sw, oh, ow, pad_t, pad_l, pad_b, pad_r;
};

PoolGeo pool_geometry(const char* op, const Tensor& x, const Pool2DParams& p) {
  KEEL_CHECK(x.defined() && x.dim() == 4, op, ": input must be [N,H,W,C], got ",
             x.defined() ? shape_str(x.shape()) : "undefined");
  KEEL_CHECK(is_floating(x.dtype()), op, ": input must be f32 or f64, got ", dtype_name(x.dtype()));
  KEEL_CHECK(p.pool_h >= 1 && p.pool_w >= 1 && p.stride_h >= 0 && p.stride_w >= 0, op, ": invalid pool (",
             p.pool_h, ",", p.pool_w, ") or strides (", p.stride_h, ",", p.stride_w, ")");
  PoolGeo g{};
  g.n = x.size(0), g.h = x.size(1), g.w = x.size(2), g.c = x.size(3);
  g.ph = p.pool_h, g.pw = p.pool_w;
  g.sh = p.stride_h ? p.stride_h : p.pool_h;
  g.sw = p.stride_w ? p.stride_w : p.pool_w;
  const ConvGeometry gh = conv_geometry(g.h, g.ph, g.sh, 1, p.pad), gw = conv_geometry(g.w, g.pw, g.sw, 1, p.pad);
  KEEL_CHECK(gh.out > 0 && gw.out > 0, op, ": input ", shape_str(x.shape()), " is smaller than the pool window ",
             g.ph, "x", g.pw, " with valid padding");
  g.oh = gh.out, g.ow = gw.out;
  g.pad_t = gh.pad_before, g.pad_b = gh.pad_after, g.pad_l = gw.pad_before, g.pad_r = gw.pad_after;
  return g;
}

// Visits each output position with its window clipped to the image.
template <class F>
void for_windows(const PoolGeo& g, F&& f) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        const int64_t h0 = std::max<int64_t>(i * g.sh - g.pad_t, 0), h1 = std::min(i * g.sh - g.pad_t + g.ph, g.h);
        const int64_t w0 = std::max<int64_t>(j * g.sw - g.pad_l, 0), w1 = std::min(j * g.sw - g.pad_l + g.pw, g.w);
        f(n, (n * g.oh + i) * g.ow + j, h0, h1, w0, w1);
      }
}

template <class T>
void plain_pool(const PoolGeo& g, bool is_max, const T* x, T* y) {
  for_windows(g, [&](int64_t n, int64_t out, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    for (int64_t c = 0; c < g.c; ++c) {
      T acc = is_max ? -std::numeric_limits<T>::infinity() : T(0);
      for (int64_t a = h0; a < h1; ++a)
        for (int64_t b = w0; b < w1; ++b) {
          const T v = x[((n * g.h + a) * g.w + b) * g.c + c];
          acc = is_max ? std::max(acc, v) : acc + v;
        }
      y[out * g.c + c] = is_max ? acc : acc / T((h1 - h0) * (w1 - w0));
    }
  });
}

template <class T>
void plain_pool_backward(const PoolGeo& g, bool is_max, const T* x, const T* gy, T* dx) {
  for_windows(g, [&](int64_t n, int64_t out, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    for (int64_t c = 0; c < g.c; ++c) {
      const T go = gy[out * g.c + c];
      if (is_max) {
        int64_t best = -1;
        for (int64_t a = h0; a < h1; ++a)
          for (int64_t b = w0; b < w1; ++b) {
            const int64_t k = ((n * g.h + a) * g.w + b) * g.c + c;
            if (best < 0 || x[k] > x[best]) best = k;
          }
        dx[best] += go;
      } else {
        const T share = go / T((h1 - h0) * (w1 - w0));
        for (int64_t a = h0; a < h1; ++a)
          for (int64_t b = w0; b < w1; ++b) dx[((n * g.h + a) * g.w + b) * g.c + c] += share;
      }
    }
  });
}

struct PoolPrims {
  dnnl::pooling_forward::primitive_desc fwd_pd;
  dnnl::pooling_forward fwd;
};

std::string pool_key(const PoolGeo& g, bool is_max) {
  return std::string(is_max ? "max" : "avg") + ":" + dnnl_glue::dims_key({g.n, g.h, g.w, g.c}) + ":k" +
         dnnl_glue::dims_key({g.ph, g.pw}) + ":s" + dnnl_glue::dims_key({g.sh, g.sw}) + ":p" +
         dnnl_glue::dims_key({g.pad_t, g.pad_l, g.pad_b, g.pad_r});
}

memory::desc nhwc(int64_t n, int64_t c, int64_t h, int64_t w) {
  return memory::desc({n, c, h, w}, memory::data_type::f32, tag::nhwc);
}

PoolPrims pool_forward_prims(const PoolGeo& g, bool is_max, const std::string& key) {
  return dnnl_glue::cached<PoolPrims>("pool2d:fwd:" + key, [&] {
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_training,
                                     is_max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
                                     nhwc(g.n, g.c, g.h, g.w), nhwc(g.n, g.c, g.oh, g.ow), {g.sh, g.sw}, {g.ph, g.pw},
                                     {g.pad_t, g.pad_l}, {g.pad_b, g.pad_r});
    PoolPrims p{dnnl::pooling_forward::primitive_desc(desc, dnnl_glue::context().engine), {}};
    p.fwd = dnnl::pooling_forward(p.fwd_pd);
    return p;
  });
}

Tensor pool2d(const char* op, const Tensor& x, const Pool2DParams& p, bool is_max) {
  const PoolGeo g = pool_geometry(op, x, p);
  Tensor y = Tensor::empty({g.n, g.oh, g.ow, g.c}, x.dtype());
  const std::string key = pool_key(g, is_max);
  const bool f32 = x.dtype() == DType::f32, empty = x.numel() == 0;
  memory workspace;
  if (f32 && !empty) {
    PoolPrims prims;
    try {
      prims = pool_forward_prims(g, is_max, key);
    } catch (const dnnl::error& e) {
      KEEL_FAIL(op, ": oneDNN cannot run input ", shape_str(x.shape()), " with window ", g.ph, "x", g.pw,
                ", strides (", g.sh, ",", g.sw, "), padding (", g.pad_t, ",", g.pad_l, "): ", e.what());
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, dnnl_glue::wrap(x, nhwc(g.n, g.c, g.h, g.w))},
                                         {DNNL_ARG_DST, dnnl_glue::wrap(y, nhwc(g.n, g.c, g.oh, g.ow))}};
    if (is_max) {
      workspace = memory(prims.fwd_pd.workspace_desc(), dnnl_glue::context().engine);
      args[DNNL_ARG_WORKSPACE] = workspace;
    }
    dnnl_glue::execute(prims.fwd, args);
  } else if (!empty) {
    plain_pool(g, is_max, x.data<double>(), y.data<double>());
  }
  if (should_record({x})) {
    record(op, {x}, y, [g, is_max, key, f32, empty, workspace, xd = is_max && !f32 ? SavedTensor(x) : SavedTensor(),
                        shape = x.shape()](const Tensor& gy) {
      Tensor dx = Tensor::zeros(shape, gy.dtype());
      if (empty) return std::vector<Tensor>{dx};
      if (!f32) {
        plain_pool_backward(g, is_max, is_max ? xd.get().data<double>() : nullptr, gy.data<double>(), dx.data<double>());
        return std::vector<Tensor>{dx};
      }
      struct Bwd {
        dnnl::pooling_backward::primitive_desc pd;
        dnnl::pooling_backward prim;
      };
      Bwd b = dnnl_glue::cached<Bwd>("pool2d:bwd:" + key, [&] {
        PoolPrims f = pool_forward_prims(g, is_max, key);
        dnnl::pooling_backward::desc desc(
            is_max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
            nhwc(g.n, g.c, g.h, g.w), nhwc(g.n, g.c, g.oh, g.ow), {g.sh, g.sw}, {g.ph, g.pw}, {g.pad_t, g.pad_l},
            {g.pad_b, g.pad_r});
        Bwd r{dnnl::pooling_backward::primitive_desc(desc, dnnl_glue::context().engine, f.fwd_pd), {}};
        r.prim = dnnl::pooling_backward(r.pd);
        return r;
      });
      std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, dnnl_glue::wrap(gy, nhwc(g.n, g.c, g.oh, g.ow))},
                                           {DNNL_ARG_DIFF_SRC, dnnl_glue::wrap(dx, nhwc(g.n, g.c, g.h, g.w))}};
      if (is_max) args[DNNL_ARG_WORKSPACE] = workspace;
      dnnl_glue::execute(b.prim, args);
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2DParams& p) { return pool2d("max_pool2d", x, p, true); }
Tensor avg_pool2d(const Tensor& x, const Pool2DParams& p) { return pool2d("avg_pool2d", x, p, false); }

Tensor global_avg_pool2d(const Tensor& x, bool keepdims) {
  KEEL_CHECK(x.defined() && x.dim() == 4, "global_avg_pool2d: input must be [N,H,W,C], got ",
             x.defined() ? shape_str(x.shape()) : "undefined");
  const int64_t n = x.size(0), hw = x.size(1) * x.size(2), c = x.size(3);
  KEEL_CHECK(hw > 0, "global_avg_pool2d: input ", shape_str(x.shape()), " has no pixels to average");
  Tensor y = Tensor::empty(keepdims ? Shape{n, 1, 1, c} : Shape{n, c}, x.dtype());
  dispatch_floating(x.dtype(), "global_avg_pool2d", [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < hw; ++k)
        for (int64_t ch = 0; ch < c; ++ch) py[i * c + ch] += px[(i * hw + k) * c + ch];
    for (int64_t i = 0; i < n * c; ++i) py[i] /= T(hw);
  });
  if (should_record({x})) {
    record("global_avg_pool2d", {x}, y, [shape = x.shape(), n, hw, c](const Tensor& gy) {
      Tensor dx = Tensor::empty(shape, gy.dtype());
      dispatch_floating(gy.dtype(), "global_avg_pool2d backward", [&](auto z) {
        using T = decltype(z);
        const T* pg = gy.data<T>();
        T* pd = dx.data<T>();
        for (int64_t i = 0; i < n; ++i)
          for (int64_t k = 0; k < hw; ++k)
            for (int64_t ch = 0; ch < c; ++ch) pd[(i * hw + k) * c + ch] = pg[i * c + ch] / T(hw);
      });
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

}  // namespace keel::ops
