// Helpers for the ops tests: random tensors, flat index arithmetic for reference kernels, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "keel/autodiff/gradcheck.h"
#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"

namespace keel::test {

inline Tensor rnd(const Shape& s, DType d = DType::f64, double lo = -2, double hi = 2, uint64_t seed = 7) {
  Generator g(seed);
  return Tensor::uniform(s, g, lo, hi, d);
}

inline std::vector<double> values(const Tensor& t) { return t.to(DType::f64).to_vector<double>(); }

// Multi-index of flat position i in shape s.
inline std::vector<int64_t> unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
    idx[d] = s[d] ? i % s[d] : 0;
    if (s[d]) i /= s[d];
  }
  return idx;
}
// Flat position in shape s of the (right-aligned, broadcast) multi-index idx.
inline int64_t ravel_broadcast(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t flat = 0;
  const size_t off = idx.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) flat = flat * s[d] + (s[d] == 1 ? 0 : idx[off + d]);
  return flat;
}

inline void expect_near(const Tensor& got, const std::vector<double>& want, double rtol, double atol = 1e-12,
                        const std::string& what = "") {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  const auto g = values(got);
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << what << " at " << i;
      continue;
    }
    ASSERT_NEAR(g[i], want[i], atol + rtol * std::abs(want[i])) << what << " at " << i;
  }
}

inline void expect_grad_ok(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                           const std::vector<Tensor>& in, const std::string& what = "") {
  auto r = gradcheck(f, in);
  EXPECT_TRUE(r.ok) << what << ": " << r.message;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace keel::test
