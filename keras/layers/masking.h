// Internal: the small mask computations of Keras's masking (bool tensors, true = a valid step).
//
//   Tensor m = detail::nonzero_mask(ids);          // Embedding(mask_zero=true): ids != 0
//   Tensor both = detail::mask_and(m1, m2, who);   // Add's output mask
#pragma once

#include <string>
#include <vector>

#include "keel/graph/tensor.h"

namespace keel::keras::detail {

// ids != 0 (ids of an integer dtype), bool of ids' shape.
Tensor nonzero_mask(const Tensor& ids);
// Elementwise and of two bool masks of one shape; a shape mismatch throws naming `who` and both shapes.
Tensor mask_and(const Tensor& a, const Tensor& b, const std::string& who);
// Masks concatenated along `axis` (Concatenate along a non-feature axis); an undefined mask counts as all
// true over `shapes[i]` (the mask shape its input would have).
Tensor mask_concat(const std::vector<Tensor>& masks, const std::vector<Shape>& shapes, int64_t axis);

}  // namespace keel::keras::detail
