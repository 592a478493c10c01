// Gradient checks against central finite differences, in double precision.
//
//   auto r = keel::gradcheck([](const std::vector<Tensor>& in) { return ops::tanh(in[0]); },
//                            {Tensor::uniform({3, 4}, gen, -1, 1, DType::f64)});
//   EXPECT_TRUE(r.ok) << r.message;
//
// f must return a tensor (any shape); the check contracts it with a fixed random weight so that every
// output element contributes. Inputs of floating dtype are perturbed; others are passed unchanged.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"

namespace keel {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string message;  // which input and element failed, analytic vs numeric
};

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-5,
                          double rtol = 1e-4);

}  // namespace keel
