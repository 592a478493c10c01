#include "keel/graph/saved_tensor.h"

namespace keel {

void SavedTensor::fail_modified() const {
  throw SavedTensorModified(detail::concat(
      "a tensor of shape ", shape_str(t_.shape()), " ", dtype_name(t_.dtype()), " that this gradient reads was ",
      "modified in place after it was recorded (version ", version_, " when recorded, ", t_.version(),
      " now); compute the gradient before the in-place write, or write to a clone"));
}

}  // namespace keel
