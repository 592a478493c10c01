// error_of(f): the message of the exception f throws, or "" when it throws none. For tests that compare
// whole error messages.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace keel::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace keel::test
