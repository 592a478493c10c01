// Helpers shared by the spatial op tests: random tensors, differences, gradients through backward().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"

namespace spatial_test {

using keel::DType;
using keel::Tensor;

inline Tensor rnd(const keel::Shape& s, keel::Generator& g, double lo = -1, double hi = 1,
                  DType d = DType::f64) {
  return Tensor::uniform(s, g, lo, hi, d);
}

// Largest |a - b| over elements (both converted to f64); shapes must match.
inline double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return 1e30;
  Tensor x = a.to(DType::f64), y = b.to(DType::f64);
  double m = 0;
  for (int64_t i = 0; i < x.numel(); ++i) m = std::max(m, std::abs(x.data<double>()[i] - y.data<double>()[i]));
  return m;
}

// Gradients of sum(f(inputs) * seed) w.r.t. each input (fresh leaves in `dtype`).
inline std::vector<Tensor> grads(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                 const std::vector<Tensor>& inputs, const Tensor& seed, DType dtype) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) {
    Tensor l = keel::is_floating(t.dtype()) ? t.to(dtype) : t.clone();
    if (keel::is_floating(t.dtype())) l.set_requires_grad(true);
    leaves.push_back(l);
  }
  Tensor y = f(leaves);
  y.backward(seed.to(dtype));
  std::vector<Tensor> out;
  for (const Tensor& l : leaves) out.push_back(l.grad());
  return out;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const keel::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace spatial_test
