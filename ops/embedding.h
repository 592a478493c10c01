// Embedding lookup (ops/embedding.cpp): table [V, D], ids i32/i64 of any shape -> ids.shape + [D].
// Gradient is a scatter-add into the table. Ids outside [0, V) throw naming the id and V.
#pragma once

#include "keel/graph/tensor.h"

namespace keel::ops {

Tensor embedding(const Tensor& table, const Tensor& ids);

}  // namespace keel::ops
