// keel::Error: the one exception type every keel failure derives from.
//
//   KEEL_CHECK(a.dim() == 2, "matmul: ", shape_str(a.shape()), " x ", shape_str(b.shape()),
//              ": inner dimensions ", k1, " and ", k2, " differ");
//
// The message is built only when the check fails. Messages name the op or object, the file and key
// where there is one, and both sides of any mismatch.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace keel {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A tensor's memory could not be allocated; the message names the shape, dtype and bytes. Callers that
// know more (a layer creating a weight) catch it to name the object.
class AllocationError : public Error {
 public:
  explicit AllocationError(const std::string& what) : Error(what) {}
};

namespace detail {
template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

}  // namespace keel

#define KEEL_CHECK(cond, ...)                                        \
  do {                                                               \
    if (__builtin_expect(!(cond), 0)) {                              \
      throw ::keel::Error(::keel::detail::concat(__VA_ARGS__));      \
    }                                                                \
  } while (0)

#define KEEL_FAIL(...) throw ::keel::Error(::keel::detail::concat(__VA_ARGS__))
