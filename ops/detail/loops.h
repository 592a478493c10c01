// Internal to ops/: plain loop helpers shared by the elementwise, activation, reduction and shape ops.
//
//   BroadcastPlan p = broadcast_plan(out.shape(), {&a.shape(), &b.shape()});
//   for_each_row(p, numel, [&](int64_t row, const int64_t* offs) { ... });
//   parallel_chunks(n, [&](int64_t begin, int64_t end) { ... });
//   simd_for(n, [&](int64_t i) { o[i] = y[i] > 0 ? g[i] : 0.f; });     // vectorized, best ISA
//
// Parallel loops split work into fixed chunks by static scheduling, and each output element is produced by
// exactly one thread in a fixed order, so results do not depend on the thread count.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "keel/graph/detail/isa_dispatch.h"
#include "keel/graph/dtype.h"
#include "keel/graph/error.h"
#include "keel/graph/shape.h"

namespace keel::ops::detail {

// Below this many elements loops run on one thread (thread start-up costs more than the work).
constexpr int64_t kParallelMin = 1 << 15;
// f32 tensors with at least this many elements go through oneDNN primitives where one exists (binary,
// cheap eltwise, reductions). Measured on one AVX-512 core: oneDNN add wins from about 16k elements.
constexpr int64_t kDnnlMin = 1 << 14;
// Transcendental eltwise (exp, log, tanh, sigmoid, gelu, ...) and softmax: oneDNN's vectorised
// approximations beat std:: calls by 5-20x already at a few thousand elements.
constexpr int64_t kDnnlTranscendentalMin = 1 << 11;
constexpr int kMaxRank = 16;

// Runs f(begin, end) over [0, n) in contiguous chunks, in parallel when n * cost_per_item is large.
template <class F>
void parallel_chunks(int64_t n, F&& f, int64_t cost_per_item = 1) {
  if (n <= 0) return;
  const int threads = omp_get_max_threads();
  if (n * cost_per_item < kParallelMin || threads <= 1 || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, n);
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(chunks))
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    f(begin, end);
  }
}

// f(i) for i in [0, n): parallel_chunks, each chunk an `omp simd` loop compiled for the best vector ISA
// the CPU has (keel::detail::run_best_isa). For element-wise loops; f should read its operands
// unconditionally (a select of loaded values vectorizes, a conditional load does not).
template <class F>
void simd_for(int64_t n, F&& f) {
  parallel_chunks(n, [&](int64_t begin, int64_t end) {
    keel::detail::run_best_isa(
        [&](int64_t b, int64_t e) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) f(i);
        },
        begin, end);
  });
}

// Up to three operands broadcast against an output shape, with adjacent dimensions merged where every
// operand allows it. strides[k][d] is operand k's stride in elements along merged dimension d (0 where it
// broadcasts). rank is at least 1.
struct BroadcastPlan {
  int rank = 1;
  int operands = 0;
  int64_t dims[kMaxRank] = {1};
  int64_t strides[3][kMaxRank] = {};
  int64_t inner() const { return dims[rank - 1]; }
  int64_t rows() const {
    int64_t r = 1;
    for (int d = 0; d + 1 < rank; ++d) r *= dims[d];
    return r;
  }
};

inline BroadcastPlan broadcast_plan(const Shape& out, std::initializer_list<const Shape*> ins, const char* op) {
  BroadcastPlan p;
  const int rank = static_cast<int>(out.size());
  KEEL_CHECK(rank <= kMaxRank, op, ": rank ", rank, " exceeds the supported ", kMaxRank);
  p.operands = static_cast<int>(ins.size());
  int64_t dims[kMaxRank];
  int64_t st[3][kMaxRank];
  int k = 0;
  for (const Shape* s : ins) {
    const int off = rank - static_cast<int>(s->size());
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t sd = d >= off ? (*s)[d - off] : 1;
      st[k][d] = (sd == 1 && out[d] != 1) ? 0 : stride;
      stride *= sd;
    }
    ++k;
  }
  // Merge dimension d into the previous one when every operand's strides are compatible; drop size-1 dims.
  int r = 0;
  for (int d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    bool merge = r > 0;
    for (int j = 0; j < p.operands && merge; ++j) merge = st[j][r - 1] == st[j][d] * out[d];
    if (merge) {
      dims[r - 1] *= out[d];
      for (int j = 0; j < p.operands; ++j) st[j][r - 1] = st[j][d];
    } else {
      dims[r] = out[d];
      for (int j = 0; j < p.operands; ++j) st[j][r] = st[j][d];
      ++r;
    }
  }
  if (r == 0) {
    p.rank = 1;
    p.dims[0] = 1;
    for (int j = 0; j < p.operands; ++j) p.strides[j][0] = 0;
    return p;
  }
  p.rank = r;
  for (int d = 0; d < r; ++d) {
    p.dims[d] = dims[d];
    for (int j = 0; j < p.operands; ++j) p.strides[j][d] = st[j][d];
  }
  return p;
}

// Calls f(row, offsets) for every row (all merged dims but the last); offsets[k] is operand k's element
// offset at the row start, and offsets[3] the output's. Rows run in parallel when the tensor is large.
template <class F>
void for_each_row(const BroadcastPlan& p, F&& f) {
  const int64_t rows = p.rows(), inner = p.inner();
  parallel_chunks(rows, [&](int64_t begin, int64_t end) {
    int64_t idx[kMaxRank];
    int64_t rem = begin;
    for (int d = p.rank - 2; d >= 0; --d) {
      idx[d] = rem % p.dims[d];
      rem /= p.dims[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      int64_t offs[4] = {0, 0, 0, row * inner};
      for (int d = 0; d + 1 < p.rank; ++d)
        for (int j = 0; j < p.operands; ++j) offs[j] += idx[d] * p.strides[j][d];
      f(row, offs);
      for (int d = p.rank - 2; d >= 0; --d) {
        if (++idx[d] < p.dims[d]) break;
        idx[d] = 0;
      }
    }
  }, inner);
}

}  // namespace keel::ops::detail

namespace keel::ops::detail {

// Calls f(U{}) with an unsigned type of the dtype's element size, for ops that only move elements.
template <class F>
void dispatch_bytes(DType d, const char* op, F&& f) {
  switch (dtype_size(d)) {
    case 1: f(uint8_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8:
      if (d != DType::string) {
        f(uint64_t{});
        return;
      }
      break;
    default: break;
  }
  KEEL_FAIL(op, ": dtype ", dtype_name(d), " is not supported");
}

}  // namespace keel::ops::detail
