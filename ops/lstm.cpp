// LSTM over a sequence with Keras's layouts (kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u], gates
// i, f, c, o). f32 runs a composition on cached oneDNN matmuls with fused gate passes; f64 runs a plain
// kernel with its own backward, the reference for the gradient checks.
#include "keel/ops/lstm.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>
#include <cstring>

#include "keel/graph/detail/isa_dispatch.h"
#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
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
PlainState plain_forward(const Dims& d, const T* x, const T* w, const T* r, const T* b, const T* h0, const T* c0,
                         const uint8_t* mask) {
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
      if (mask && !mask[t * d.n + n]) {  // a masked step: the states carry over
        std::fill(gates + (t * d.n + n) * g4, gates + (t * d.n + n + 1) * g4, T(0));
        std::memcpy(c + (t + 1) * nu + n * d.u, c + t * nu + n * d.u, sizeof(T) * d.u);
        std::memcpy(h + (t + 1) * nu + n * d.u, hp, sizeof(T) * d.u);
        continue;
      }
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
                    const T* gh, const T* gc, const uint8_t* mask, T* dx, T* dw, T* dr, T* db, T* dh0, T* dc0) {
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
      if (mask && !mask[t * d.n + n]) {  // the states passed through: so do their gradients
        for (int64_t k = 0; k < d.u; ++k)
          dh_prev[n * d.u + k] = dh[n * d.u + k] + (gy_seq ? gy_seq[(n * d.t + t) * d.u + k] : T(0));
        continue;
      }
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

// ---- f32: a composition on oneDNN matmuls. One matmul computes x.W + b for all time steps; each
// step adds h.U in place (a matmul with a sum post-op) and applies the gates in one fused pass. The
// backward runs the steps in reverse (dz per step, dh = dz.U^T), then computes dW, dU and dx with one
// matmul each over all steps. (oneDNN 2.6's own lstm_backward runs a reference path, ~20x slower.)

// exp on [-87, 88] to about 2 ulp (Cephes's polynomial), branch-free so that loops vectorize (the
// selects need -fno-trapping-math, which CMakeLists.txt sets for this file). The clamp is two selects
// written so that NaN fails both comparisons and lands on -87 (a finite value for the float->int
// conversion below, which is undefined for NaN and out-of-range values); the NaN itself is given back
// at the end. So exp(+-inf) is exp(88) / exp(-87), never inf - inf, and sigmoid and tanh of +-inf
// saturate as TF's do.
inline float fast_exp(float x_in) {
  float x = x_in > -87.0f ? x_in : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  const float fn = x * 1.44269504f;
  const int32_t n = static_cast<int32_t>(fn + 128.5f) - 128;  // round to nearest; fn + 128.5 > 0
  const float nf = static_cast<float>(n);
  const float r = (x - nf * 0.693359375f) + nf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x_in == x_in ? p * scale : x_in;
}
inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
inline float fast_tanh(float x) { return 2.0f / (1.0f + fast_exp(-2.0f * x)) - 1.0f; }

// The gate loops of one time step, over the batch's rows. Each runs through detail::run_best_isa, so
// that it is compiled for AVX-512 and AVX2 as well as the x86-64 baseline (SSE2), with the same
// operations and so the same bits on each (about a fifth of lstm_bs64's time; AVX2 +18% samples/s).
//
// forward: z [n, 4u] pre-activations in, activated gates out; c_prev, c_next, h_next [n, u].
void forward_gates(int64_t n, int64_t u, float* z, const float* c_prev, float* c_next, float* h_next) {
  keel::detail::run_best_isa(
      [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          float* zr = z + row * 4 * u;
          const float* cp = c_prev + row * u;
          float* cn = c_next + row * u;
          float* hn = h_next + row * u;
#pragma omp simd
          for (int64_t k = 0; k < u; ++k) {
            const float ig = fast_sigmoid(zr[k]), fg = fast_sigmoid(zr[u + k]), cg = fast_tanh(zr[2 * u + k]),
                        og = fast_sigmoid(zr[3 * u + k]);
            zr[k] = ig, zr[u + k] = fg, zr[2 * u + k] = cg, zr[3 * u + k] = og;
            const float cv = fg * cp[k] + ig * cg;
            cn[k] = cv;
            hn[k] = og * fast_tanh(cv);
          }
        }
      },
      0, n);
}

// backward at step t of `steps`: z the activated gates [n, 4u], c_t and c_prev [n, u], gy_seq the
// gradient of the output sequence ([n, steps, u], or null: `zeros` [u] instead); dh, dc [n, u] carried
// from step t+1 to t; dz [n, 4u] out.
void backward_gates(int64_t n, int64_t u, int64_t steps, int64_t t, const float* z, const float* c_t,
                    const float* c_prev, const float* gy_seq, const float* zeros, float* dh, float* dc, float* dz) {
  keel::detail::run_best_isa(
      [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const float* zr = z + row * 4 * u;
          float* dzr = dz + row * 4 * u;
          const float* ct = c_t + row * u;
          const float* cp = c_prev + row * u;
          const float* gs = gy_seq ? gy_seq + (row * steps + t) * u : zeros;
          float* dhr = dh + row * u;
          float* dcr = dc + row * u;
#pragma omp simd
          for (int64_t k = 0; k < u; ++k) {
            const float dhk = dhr[k] + gs[k];
            const float ig = zr[k], fg = zr[u + k], cg = zr[2 * u + k], og = zr[3 * u + k];
            const float tc = fast_tanh(ct[k]);
            const float dck = dcr[k] + dhk * og * (1.f - tc * tc);
            dzr[k] = dck * cg * ig * (1.f - ig);
            dzr[u + k] = dck * cp[k] * fg * (1.f - fg);
            dzr[2 * u + k] = dck * ig * (1.f - cg * cg);
            dzr[3 * u + k] = dhk * tc * og * (1.f - og);
            dcr[k] = dck * fg;
          }
        }
      },
      0, n);
}

// C[m,n] = A[m,k] . B[k,n] (+ bias[n]) (+ C when accumulate), a cached matmul primitive.
// Operands are row-major: oneDNN 2.6's matmul primitive and sgemm were both an order of magnitude slower
// on transposed operands here, so callers transpose explicitly (transpose() below).
void matmul(const char* what, int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* c,
            const float* bias, bool accumulate) {
  const std::string key = std::string("lstm:matmul:") + what + ":" + dnnl_glue::dims_key({m, k, n}) +
                          (bias ? ":b" : "") + (accumulate ? ":acc" : "");
  const memory::desc ad({m, k}, memory::data_type::f32, memory::dims{k, 1});
  const memory::desc bd({k, n}, memory::data_type::f32, memory::dims{n, 1});
  const memory::desc cd({m, n}, memory::data_type::f32, memory::dims{n, 1});
  const memory::desc biasd({1, n}, memory::data_type::f32, memory::dims{n, 1});
  auto prim = dnnl_glue::cached<dnnl::matmul>(key, [&] {
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.f);
      attr.set_post_ops(po);
    }
    const auto& eng = dnnl_glue::context().engine;
    return dnnl::matmul(dnnl::matmul::primitive_desc(
        bias ? dnnl::matmul::desc(ad, bd, biasd, cd) : dnnl::matmul::desc(ad, bd, cd), attr, eng));
  });
  const auto& eng = dnnl_glue::context().engine;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(ad, eng, const_cast<float*>(a))},
                                       {DNNL_ARG_WEIGHTS, memory(bd, eng, const_cast<float*>(b))},
                                       {DNNL_ARG_DST, memory(cd, eng, c)}};
  if (bias) args[DNNL_ARG_BIAS] = memory(biasd, eng, const_cast<float*>(bias));
  dnnl_glue::execute(prim, args);
}

// [rows, cols] -> [cols, rows], in tiles.
Tensor transpose(const float* in, int64_t rows, int64_t cols) {
  Tensor out = Tensor::uninitialized({cols, rows});
  float* o = out.data<float>();
  constexpr int64_t tile = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += tile)
    for (int64_t j0 = 0; j0 < cols; j0 += tile)
      for (int64_t i = i0; i < std::min(i0 + tile, rows); ++i)
        for (int64_t j = j0; j < std::min(j0 + tile, cols); ++j) o[j * rows + i] = in[i * cols + j];
  return out;
}

// [A,B,C] -> [B,A,C] (batch-major <-> time-major).
void swap01(const float* in, float* out, int64_t a, int64_t b, int64_t c) {
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j) std::memcpy(out + (j * a + i) * c, in + (i * b + j) * c, sizeof(float) * c);
}

// Saved forward state (time-major): xt [T,N,in], gates [T,N,4u] (activated), h and c [T+1,N,u].
struct FastState {
  Tensor xt, gates, h, c;
};

// Rows of step t whose mask is false keep the previous step's states.
void carry_masked_states(const Dims& d, const uint8_t* mask_t, const float* c_prev, const float* h_prev,
                         float* c_next, float* h_next) {
  for (int64_t n = 0; n < d.n; ++n) {
    if (mask_t[n]) continue;
    std::memcpy(c_next + n * d.u, c_prev + n * d.u, sizeof(float) * d.u);
    std::memcpy(h_next + n * d.u, h_prev + n * d.u, sizeof(float) * d.u);
  }
}

FastState fast_forward(const Dims& d, const Tensor& x, const Tensor& w, const Tensor& r, const Tensor& b,
                       const Tensor& h0, const Tensor& c0, const uint8_t* mask) {
  dnnl_glue::ScopedFlushDenormals flush;
  const int64_t g4 = 4 * d.u, nu = d.n * d.u, u = d.u;
  // Every element is written below (h and c: step 0 by the copies of h0 and c0, the others by the gates).
  FastState s{Tensor::uninitialized({d.t, d.n, d.in}), Tensor::uninitialized({d.t, d.n, g4}),
              Tensor::uninitialized({d.t + 1, d.n, d.u}), Tensor::uninitialized({d.t + 1, d.n, d.u})};
  float *xt = s.xt.data<float>(), *z = s.gates.data<float>(), *h = s.h.data<float>(), *c = s.c.data<float>();
  swap01(x.data<float>(), xt, d.n, d.t, d.in);
  std::memcpy(h, h0.data<float>(), sizeof(float) * nu);
  std::memcpy(c, c0.data<float>(), sizeof(float) * nu);
  matmul("xw", d.t * d.n, d.in, g4, xt, w.data<float>(), z, b.data<float>(), false);
  for (int64_t t = 0; t < d.t; ++t) {
    float* zt = z + t * d.n * g4;
    matmul("hu", d.n, d.u, g4, h + t * nu, r.data<float>(), zt, nullptr, true);
    forward_gates(d.n, u, zt, c + t * nu, c + (t + 1) * nu, h + (t + 1) * nu);
    if (mask) carry_masked_states(d, mask + t * d.n, c + t * nu, h + t * nu, c + (t + 1) * nu, h + (t + 1) * nu);
  }
  return s;
}

void fast_backward(const Dims& d, const FastState& s, const Tensor& w, const Tensor& r, const float* gy_seq,
                   const float* gh, const float* gc, const uint8_t* mask, Tensor& dx, Tensor& dw, Tensor& dr, Tensor& db, Tensor& dh0,
                   Tensor& dc0) {
  dnnl_glue::ScopedFlushDenormals flush;
  const int64_t g4 = 4 * d.u, nu = d.n * d.u, u = d.u;
  const float *z = s.gates.data<float>(), *c = s.c.data<float>();
  Tensor dz_t = Tensor::uninitialized({d.t, d.n, g4});
  float* dz = dz_t.data<float>();
  float* dh = dh0.data<float>();
  float* dc = dc0.data<float>();
  std::memcpy(dh, gh, sizeof(float) * nu);
  std::memcpy(dc, gc, sizeof(float) * nu);
  const Tensor rt = transpose(r.data<float>(), d.u, g4);
  const std::vector<float> zeros(static_cast<size_t>(u), 0.f);
  // A masked row's states passed through its step: their gradients pass back unchanged (dz = 0).
  std::vector<float> carry_h(mask ? nu : 0), carry_c(mask ? nu : 0);
  for (int64_t t = d.t - 1; t >= 0; --t) {
    const uint8_t* mask_t = mask ? mask + t * d.n : nullptr;
    float* dzt = dz + t * d.n * g4;
    for (int64_t n = 0; mask_t && n < d.n; ++n) {
      if (mask_t[n]) continue;
      for (int64_t k = 0; k < u; ++k) {
        carry_h[n * u + k] = dh[n * u + k] + (gy_seq ? gy_seq[(n * d.t + t) * u + k] : 0.f);
        carry_c[n * u + k] = dc[n * u + k];
      }
    }
    backward_gates(d.n, u, d.t, t, z + t * d.n * g4, c + (t + 1) * nu, c + t * nu, gy_seq, zeros.data(), dh, dc, dzt);
    for (int64_t n = 0; mask_t && n < d.n; ++n) {
      if (mask_t[n]) continue;
      std::fill(dzt + n * g4, dzt + (n + 1) * g4, 0.f);
      std::memcpy(dc + n * u, carry_c.data() + n * u, sizeof(float) * u);
    }
    matmul("dh", d.n, g4, d.u, dzt, rt.data<float>(), dh, nullptr, false);
    for (int64_t n = 0; mask_t && n < d.n; ++n)
      if (!mask_t[n]) std::memcpy(dh + n * u, carry_h.data() + n * u, sizeof(float) * u);
  }
  const int64_t rows = d.t * d.n;
  matmul("dw", d.in, rows, g4, transpose(s.xt.data<float>(), rows, d.in).data<float>(), dz, dw.data<float>(), nullptr,
         false);
  matmul("dr", d.u, rows, g4, transpose(s.h.data<float>(), rows, d.u).data<float>(), dz, dr.data<float>(), nullptr,
         false);
  float* pb = db.data<float>();
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = dz + i * g4;
#pragma omp simd
    for (int64_t k = 0; k < g4; ++k) pb[k] += row[k];
  }
  Tensor dxt = Tensor::uninitialized({d.t, d.n, d.in});
  matmul("dx", rows, g4, d.in, dz, transpose(w.data<float>(), d.in, g4).data<float>(), dxt.data<float>(), nullptr,
         false);
  swap01(dxt.data<float>(), dx.data<float>(), d.t, d.n, d.in);
}

// The mask as the kernels read it, time-major [T][N], and which outputs keep their value, batch-major
// [N][T]: a valid step's, and with !zero_output_for_mask a masked step's after an earlier valid one
// (it repeats that output; before any valid step the output is zeros).
struct MaskPlan {
  std::vector<uint8_t> time_major, keep;
};
MaskPlan plan_mask(const Tensor& mask, const Dims& d, bool zero_output_for_mask, const Tensor& x) {
  KEEL_CHECK(mask.dtype() == DType::boolean && mask.dim() == 2 && mask.size(0) == d.n && mask.size(1) == d.t,
             "lstm: mask ", shape_str(mask.shape()), " ", dtype_name(mask.dtype()), " does not match [", d.n, ",", d.t,
             "] bool for input ", shape_str(x.shape()));
  MaskPlan p{std::vector<uint8_t>(static_cast<size_t>(d.n * d.t)), std::vector<uint8_t>(static_cast<size_t>(d.n * d.t))};
  const bool* m = mask.data<bool>();
  for (int64_t n = 0; n < d.n; ++n) {
    bool seen = false;
    for (int64_t t = 0; t < d.t; ++t) {
      const bool valid = m[n * d.t + t];
      seen = seen || valid;
      p.time_major[t * d.n + n] = valid;
      p.keep[n * d.t + t] = valid || (!zero_output_for_mask && seen);
    }
  }
  return p;
}

// Zeros the rows of `t` ([N, T, u] with step = -1, or [N, u] for one step) whose outputs are not kept.
void zero_dropped(Tensor& t, const Dims& d, const std::vector<uint8_t>& keep, int64_t step) {
  const size_t esz = dtype_size(t.dtype()), row = static_cast<size_t>(d.u) * esz;
  char* p = static_cast<char*>(t.raw_data());
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t s = 0; s < (step < 0 ? d.t : 1); ++s)
      if (!keep[n * d.t + (step < 0 ? s : step)]) std::memset(p + (n * (step < 0 ? d.t : 1) + s) * row, 0, row);
}

void check_2d(const Tensor& t, const char* name, int64_t rows, int64_t cols, DType dt, const Tensor& x) {
  KEEL_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) == cols && t.dtype() == dt, "lstm: ", name, " ",
             shape_str(t.shape()), " ", dtype_name(t.dtype()), " does not match [", rows, ",", cols, "] ",
             dtype_name(dt), " for input ", shape_str(x.shape()));
}

}  // namespace

LSTMResult lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                const Tensor& h0, const Tensor& c0, bool return_sequences, const Tensor& mask,
                bool zero_output_for_mask) {
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
  const auto masks = std::make_shared<const MaskPlan>(mask.defined() ? plan_mask(mask, d, zero_output_for_mask, x)
                                                                    : MaskPlan{});
  const uint8_t* m = mask.defined() ? masks->time_major.data() : nullptr;

  LSTMResult res;
  res.h = Tensor::empty({d.n, d.u}, dt);
  res.c = Tensor::empty({d.n, d.u}, dt);
  Tensor seq;  // [N,T,u], all outputs
  FastState fast;
  PlainState plain;
  if (d.n == 0) {
    seq = Tensor::empty({d.n, d.t, d.u}, dt);
  } else if (dt == DType::f32) {
    fast = fast_forward(d, x, kernel, recurrent_kernel, b, h_init, c_init, m);
    const float* hs = fast.h.data<float>();
    if (return_sequences) {
      seq = Tensor::uninitialized({d.n, d.t, d.u}, dt);
      swap01(hs + d.n * d.u, seq.data<float>(), d.t, d.n, d.u);
    }
    std::memcpy(res.h.data<float>(), hs + d.t * d.n * d.u, sizeof(float) * d.n * d.u);
    std::memcpy(res.c.data<float>(), fast.c.data<float>() + d.t * d.n * d.u, sizeof(float) * d.n * d.u);
  } else {
    plain = plain_forward<double>(d, x.data<double>(), kernel.data<double>(), recurrent_kernel.data<double>(),
                                  b.data<double>(), h_init.data<double>(), c_init.data<double>(), m);
    seq = Tensor::empty({d.n, d.t, d.u}, dt);
    const double* hs = plain.h.data<double>();
    for (int64_t t = 0; t < d.t; ++t)
      for (int64_t n = 0; n < d.n; ++n)
        std::memcpy(seq.data<double>() + (n * d.t + t) * d.u, hs + ((t + 1) * d.n + n) * d.u, sizeof(double) * d.u);
    std::memcpy(res.h.data<double>(), hs + d.t * d.n * d.u, sizeof(double) * d.n * d.u);
    std::memcpy(res.c.data<double>(), plain.c.data<double>() + d.t * d.n * d.u, sizeof(double) * d.n * d.u);
  }
  res.output = return_sequences ? seq : res.h.clone();
  if (m && d.n > 0) zero_dropped(res.output, d, masks->keep, return_sequences ? -1 : d.t - 1);

  if (should_record({x, kernel, recurrent_kernel, bias, h0, c0})) {
    const bool want_b = bias.defined(), want_h0 = h0.defined(), want_c0 = c0.defined();
    auto fn = [d, return_sequences, want_b, want_h0, want_c0, fast, plain, masks, masked = m != nullptr,
               xs = SavedTensor(x),
               ws = SavedTensor(kernel), rs = SavedTensor(recurrent_kernel), bshape = b.shape()](std::vector<Tensor>&& g) {
      const Tensor &xd = xs, &wd = ws, &rd = rs;
      const DType dt = xd.dtype();
      // Gradients at the full sequence and the final states.
      // (Without return_sequences the output is the final h: its gradient joins g_h, and there is none
      // for the other steps.)
      Tensor g_seq;
      // A dropped output (zeroed by the mask) passes no gradient.
      if (return_sequences) g_seq = g[0].defined() ? g[0] : Tensor::zeros({d.n, d.t, d.u}, dt);
      if (return_sequences && masked && d.n > 0) {
        g_seq = g_seq.clone();
        zero_dropped(g_seq, d, masks->keep, -1);
      }
      Tensor g_h = g[1].defined() ? g[1].clone() : Tensor::zeros({d.n, d.u}, dt);
      if (!return_sequences && g[0].defined()) {
        Tensor g_out = g[0].clone();
        if (masked && d.n > 0) zero_dropped(g_out, d, masks->keep, d.t - 1);
        g_h.add_(g_out);
      }
      const uint8_t* mt = masked ? masks->time_major.data() : nullptr;
      Tensor g_c = g[2].defined() ? g[2] : Tensor::zeros({d.n, d.u}, dt);
      // The f32 path writes every element of dx, dw and dr (its matmuls overwrite); the plain one adds.
      const auto filled = [&](const Shape& s) {
        return dt == DType::f32 && d.n > 0 ? Tensor::uninitialized(s, dt) : Tensor::zeros(s, dt);
      };
      Tensor dx = filled(xd.shape()), dw = filled(wd.shape()), dr = filled(rd.shape()), db = Tensor::zeros(bshape, dt),
             dh0 = Tensor::zeros({d.n, d.u}, dt), dc0 = Tensor::zeros({d.n, d.u}, dt);
      if (d.n > 0 && dt == DType::f32) {
        fast_backward(d, fast, wd, rd, return_sequences ? g_seq.data<float>() : nullptr, g_h.data<float>(),
                      g_c.data<float>(), mt, dx, dw, dr, db, dh0, dc0);
      } else if (d.n > 0) {
        plain_backward<double>(d, plain, xd.data<double>(), wd.data<double>(), rd.data<double>(),
                               return_sequences ? g_seq.data<double>() : nullptr, g_h.data<double>(),
                               g_c.data<double>(), mt, dx.data<double>(), dw.data<double>(), dr.data<double>(),
                               db.data<double>(), dh0.data<double>(), dc0.data<double>());
      }
      return std::vector<Tensor>{dx, dw, dr, want_b ? db : Tensor(), want_h0 ? dh0 : Tensor(), want_c0 ? dc0 : Tensor()};
    };
    record_multi("lstm", {x, kernel, recurrent_kernel, bias, h0, c0}, {&res.output, &res.h, &res.c}, fn);
  }
  return res;
}

}  // namespace keel::ops
