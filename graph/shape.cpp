#include "keel/graph/shape.h"

#include "keel/graph/error.h"

namespace keel {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int64_t checked_numel(const Shape& s, const char* what) {
  int64_t n = 1;
  for (int64_t d : s) {
    KEEL_CHECK(d >= 0, what, ": negative dimension in shape ", shape_str(s));
    KEEL_CHECK(!__builtin_mul_overflow(n, d, &n), what, ": element count of shape ", shape_str(s),
               " overflows int64");
  }
  return n;
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  KEEL_CHECK(a >= 0 && a < rank, op, ": axis ", axis, " is out of range for rank ", rank);
  return a;
}

}  // namespace keel
