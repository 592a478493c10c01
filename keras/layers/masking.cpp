#include "keel/keras/layers/masking.h"

#include <algorithm>

#include "keel/graph/error.h"
#include "keel/ops/shape_ops.h"

namespace keel::keras::detail {

Tensor nonzero_mask(const Tensor& ids) {
  KEEL_CHECK(ids.dtype() == DType::i32 || ids.dtype() == DType::i64, "mask_zero: ids must be i32 or i64, got ",
             dtype_name(ids.dtype()));
  Tensor m = Tensor::zeros(ids.shape(), DType::boolean);
  bool* out = m.data<bool>();
  if (ids.dtype() == DType::i32) {
    const int32_t* p = ids.data<int32_t>();
    for (int64_t i = 0; i < ids.numel(); ++i) out[i] = p[i] != 0;
  } else {
    const int64_t* p = ids.data<int64_t>();
    for (int64_t i = 0; i < ids.numel(); ++i) out[i] = p[i] != 0;
  }
  return m;
}

Tensor mask_and(const Tensor& a, const Tensor& b, const std::string& who) {
  KEEL_CHECK(a.shape() == b.shape(), who, ": input masks ", shape_str(a.shape()), " and ", shape_str(b.shape()),
             " differ in shape");
  Tensor m = a.clone();
  bool* out = m.data<bool>();
  const bool* q = b.data<bool>();
  for (int64_t i = 0; i < m.numel(); ++i) out[i] = out[i] && q[i];
  return m;
}

Tensor mask_concat(const std::vector<Tensor>& masks, const std::vector<Shape>& shapes, int64_t axis) {
  std::vector<Tensor> parts;
  for (size_t i = 0; i < masks.size(); ++i) {
    if (masks[i].defined()) {
      parts.push_back(masks[i]);
    } else {
      Tensor ones = Tensor::zeros(shapes[i], DType::boolean);
      std::fill(ones.data<bool>(), ones.data<bool>() + ones.numel(), true);
      parts.push_back(ones);
    }
  }
  return ops::concat(parts, axis);
}

}  // namespace keel::keras::detail
