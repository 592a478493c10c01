// Cross-entropies and regression losses, per sample (ops/losses.cpp). Reduce with ops::mean.
//
//   Tensor l = ops::sparse_categorical_crossentropy(logits, labels, /*from_logits=*/true);  // [N]
//
// Numerically stable: from logits through log_softmax / log-sigmoid; from probabilities clipped to
// [eps, 1-eps] with Keras's epsilon 1e-7.
#pragma once

#include "keel/graph/tensor.h"

namespace keel::ops {

// pred [..., C]; labels integer [...] in [0, C) (out of range throws naming the label and C).
Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits = false,
                                       int64_t axis = -1);
// pred and target [..., C]; result [...].
Tensor categorical_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits = false,
                                int64_t axis = -1);
// pred and target same shape; mean over the last axis (as Keras); result shape[:-1].
Tensor binary_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits = false);
Tensor mean_squared_error(const Tensor& pred, const Tensor& target);   // mean over last axis
Tensor mean_absolute_error(const Tensor& pred, const Tensor& target);  // mean over last axis

}  // namespace keel::ops
