// Batch and layer normalization (ops/normalization.cpp).
//
//   Tensor y = ops::batch_norm(x, gamma, beta, moving_mean, moving_var,
//                              {.training = true, .momentum = 0.99, .epsilon = 1e-3});
#pragma once

#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"

namespace keel::ops {

struct BatchNormParams {
  bool training = false;
  double momentum = 0.99;  // Keras: moving = moving * momentum + batch * (1 - momentum)
  double epsilon = 1e-3;
  // Update moving_variance with the unbiased batch variance (n / (n - 1) times the biased one, n the
  // number of values per channel), as TensorFlow's FusedBatchNorm does; Keras uses that kernel for
  // 4-D inputs. The output is normalized with the biased variance either way.
  bool unbiased_moving_variance = false;
};

// Normalizes over all axes but the last (channels-last). gamma/beta [C] or undefined. In training the
// batch statistics are used and moving_mean/moving_variance are updated in place (not recorded), with
// the biased batch variance as Keras's non-fused path does (2-D, 3-D inputs), or the unbiased one with
// unbiased_moving_variance (Keras's fused path, 4-D inputs). In inference the moving statistics are used.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Variable& moving_mean,
                  const Variable& moving_variance, const BatchNormParams& p);

// Normalizes over the last axis; gamma/beta [last] or undefined.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon = 1e-3);

}  // namespace keel::ops
