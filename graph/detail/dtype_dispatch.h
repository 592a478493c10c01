#pragma once
#include "keel/graph/error.h"

namespace keel {

template <class F>
decltype(auto) dispatch_numeric(DType d, const char* what, F&& f) {
  switch (d) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(int32_t{});
    case DType::i64: return f(int64_t{});
    case DType::u8: return f(uint8_t{});
    case DType::boolean: return f(bool{});
    case DType::string: break;
  }
  KEEL_FAIL(what, ": dtype ", dtype_name(d), " is not numeric");
}

// Floating dtypes only (f32, f64).
template <class F>
decltype(auto) dispatch_floating(DType d, const char* what, F&& f) {
  switch (d) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: break;
  }
  KEEL_FAIL(what, ": dtype ", dtype_name(d), " is not floating point (f32 or f64)");
}

}  // namespace keel
