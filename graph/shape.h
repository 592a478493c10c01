// Shapes: outermost dimension first, row-major.
//
//   Shape s{32, 784};  shape_str(s) == "[32,784]";  checked_numel(s) == 25088
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace keel {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);  // "[32,784]", "[]" for a scalar
// Product of dims; throws keel::Error (quoting `what` and the shape) on a negative dim or int64 overflow.
int64_t checked_numel(const Shape& s, const char* what = "shape");
// Row-major strides in elements.
std::vector<int64_t> contiguous_strides(const Shape& s);
// Normalizes a possibly negative axis against rank; throws naming `op` when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op);

}  // namespace keel
