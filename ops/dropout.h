// Dropout driven by keel's counter-based Generator (ops/dropout.cpp).
//
//   Tensor y = ops::dropout(x, 0.2, gen, /*training=*/true);   // inverted scaling by 1/(1-rate)
//
// Identity at inference. The same generator state gives the same mask.
#pragma once

#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"

namespace keel::ops {

Tensor dropout(const Tensor& x, double rate, Generator& gen, bool training);

}  // namespace keel::ops
