// Internal: runs a hot loop compiled for the best x86-64 vector extension the CPU has.
//
//   detail::run_best_isa([&](int64_t begin, int64_t end) {
//     for (int64_t i = begin; i < end; ++i) p[i] -= lr * g[i] / std::sqrt(v[i] + eps);
//   }, begin, end);
//
// keel is built for the baseline x86-64 (SSE2) so that it runs anywhere; GCC's target_clones compiles
// run_best_isa, with the body inlined, once per target (AVX-512, AVX2, baseline) and picks one when the
// library loads. On one AVX-512 core the Adam update of the mlp128 variables is 8x faster than its SSE2
// build. Other compilers and architectures get the plain call. `flatten` inlines the body (and what it
// calls) into every clone: without it GCC left a large body (the LSTM's gate loops) out of line, each
// clone a call to one baseline build of it (`nm -S`: clones of a few bytes).
#pragma once

#include <cstdint>

namespace keel::detail {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
// fp-contract=off: the AVX-512 and AVX2 targets have FMA, and contracting a + b * c into one rounding
// would make results depend on the machine; without it every clone computes the same IEEE operations
// as the baseline build, bit for bit (element-wise loops only: no reassociation either way).
#define KEEL_BEST_ISA_CLONES \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"), flatten))
#else
#define KEEL_BEST_ISA_CLONES
#endif

template <class F>
KEEL_BEST_ISA_CLONES void run_best_isa(const F& body, int64_t begin, int64_t end) {
  body(begin, end);
}

}  // namespace keel::detail
