#include "keel/graph/dtype.h"

namespace keel {

size_t dtype_size(DType d) {
  switch (d) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::boolean: return 1;
    case DType::string: return sizeof(std::string);
  }
  return 0;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::boolean: return "bool";
    case DType::string: return "string";
  }
  return "?";
}

bool is_floating(DType d) { return d == DType::f32 || d == DType::f64; }
bool is_integral(DType d) {
  return d == DType::i32 || d == DType::i64 || d == DType::u8 || d == DType::boolean;
}

}  // namespace keel
