// Element types of keel tensors.
//
//   DType d = dtype_of<float>();          // DType::f32
//   dtype_size(DType::i64) == 8;  dtype_name(DType::f32) == "f32"
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace keel {

enum class DType : uint8_t { f32, f64, i32, i64, u8, boolean, string };

// Bytes per element; string tensors hold std::string objects (sizeof(std::string)).
size_t dtype_size(DType d);
const char* dtype_name(DType d);  // "f32", "f64", "i32", "i64", "u8", "bool", "string"
bool is_floating(DType d);
bool is_integral(DType d);  // i32, i64, u8, bool

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::f64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::i32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::i64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::boolean; };
template <> struct DTypeOf<std::string> { static constexpr DType value = DType::string; };
template <class T> constexpr DType dtype_of() { return DTypeOf<T>::value; }

// Whether `v` has a value of element type T: always for floating T; for an integer T, not NaN, not
// infinite and within T's range (the conversion of anything else is undefined; x86 gives the most
// negative integer).
template <class T>
constexpr bool fits_dtype(double v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return v >= static_cast<double>(std::numeric_limits<T>::min()) &&
           v < static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
  } else {
    return true;
  }
}

// Calls f(T{}) with T the C++ type of a numeric dtype (not string); throws for string.
// `what` names the caller in the error.
template <class F>
decltype(auto) dispatch_numeric(DType d, const char* what, F&& f);

}  // namespace keel

#include "keel/graph/detail/dtype_dispatch.h"
