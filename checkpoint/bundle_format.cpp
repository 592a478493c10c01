// dtype mapping, varints and the DT_STRING encoding of tensor bundles (FORMATS.md §1.4).
#include "keel/checkpoint/bundle_format.h"

#include <cstdio>
#include <cstring>
#include <vector>

#include "keel/checkpoint/bundle.h"

namespace keel {

std::string tf_dtype_name(int d) {
  static const char* const names[] = {
      "invalid", "float",  "double",   "int32",  "uint8",     "int16",    "int8",    "string",
      "complex64", "int64", "bool",    "qint8",  "quint8",    "qint32",   "bfloat16", "qint16",
      "quint16", "uint16", "complex128", "half", "resource",  "variant",  "uint32",  "uint64",
      "float8_e5m2", "float8_e4m3fn"};
  if (d >= 0 && d < static_cast<int>(sizeof(names) / sizeof(names[0]))) return names[d];
  if (d == 29) return "int4";
  if (d == 30) return "uint4";
  if (d > 100 && d < 200) return tf_dtype_name(d - 100) + "_ref";
  return "DataType(" + std::to_string(d) + ")";
}

namespace bundle_detail {

std::optional<DType> keel_dtype(int d) {
  switch (d) {
    case 1: return DType::f32;
    case 2: return DType::f64;
    case 3: return DType::i32;
    case 4: return DType::u8;
    case 7: return DType::string;
    case 9: return DType::i64;
    case 10: return DType::boolean;
    default: return std::nullopt;
  }
}

int tf_dtype(DType d) {
  switch (d) {
    case DType::f32: return 1;
    case DType::f64: return 2;
    case DType::i32: return 3;
    case DType::u8: return 4;
    case DType::string: return 7;
    case DType::i64: return 9;
    case DType::boolean: return 10;
  }
  KEEL_FAIL("bundle: dtype ", static_cast<int>(d), " has no TensorFlow DataType");
}

size_t tf_dtype_size(int d) {
  switch (d) {
    case 1: case 3: case 13: case 22: return 4;           // float int32 qint32 uint32
    case 2: case 8: case 9: case 23: return 8;            // double complex64 int64 uint64
    case 4: case 6: case 10: case 11: case 12: case 24: case 25: case 29: case 30: return 1;
    case 5: case 14: case 15: case 16: case 17: case 19: return 2;
    case 18: return 16;                                   // complex128
    default: return 0;                                    // string, resource, variant, unknown
  }
}

void put_varint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool get_varint64(const char* p, size_t n, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && *pos < n; shift += 7) {
    const auto byte = static_cast<uint8_t>(p[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

namespace {
uint32_t extend_length(uint32_t crc, uint64_t len) {
  if (len <= UINT32_MAX) {
    const auto len32 = static_cast<uint32_t>(len);
    return crc32c_extend(crc, &len32, sizeof len32);
  }
  return crc32c_extend(crc, &len, sizeof len);
}
std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
}  // namespace

uint32_t encode_strings(const Tensor& t, std::string* out) {
  const int64_t numel = t.numel();
  uint32_t crc = 0;
  for (int64_t i = 0; i < numel; i++) {
    const uint64_t len = t.str(i).size();
    put_varint64(out, len);
    crc = extend_length(crc, len);
  }
  const uint32_t length_crc = crc32c_mask(crc);
  out->append(reinterpret_cast<const char*>(&length_crc), sizeof length_crc);
  crc = crc32c_extend(crc, &length_crc, sizeof length_crc);
  for (int64_t i = 0; i < numel; i++) {
    const std::string& s = t.str(i);
    out->append(s);
    crc = crc32c_extend(crc, s.data(), s.size());
  }
  return crc;
}

Tensor decode_strings(const char* p, size_t n, const Shape& shape, uint32_t masked_crc,
                      const std::string& where) {
  const int64_t numel = checked_numel(shape, "string tensor shape");
  // Every length takes at least one byte, and 4 bytes of length checksum follow them.
  KEEL_CHECK(n >= 4 && static_cast<uint64_t>(numel) <= n - 4, where, ": string tensor ",
             shape_str(shape), " cannot fit in ", n, " bytes");
  std::vector<uint64_t> lengths(static_cast<size_t>(numel));
  size_t pos = 0;
  uint32_t crc = 0;
  uint64_t total = 0;
  for (int64_t i = 0; i < numel; i++) {
    uint64_t len = 0;
    KEEL_CHECK(get_varint64(p, n, &pos, &len), where, ": string length ", i, " is truncated or malformed");
    KEEL_CHECK(len <= n && total <= n - len, where, ": string lengths add up to more than the ", n,
               " bytes of the entry");
    total += len;
    lengths[i] = len;
    crc = extend_length(crc, len);
  }
  KEEL_CHECK(n - pos >= 4, where, ": string tensor is truncated before its length checksum");
  uint32_t stored_length_crc = 0;
  std::memcpy(&stored_length_crc, p + pos, 4);
  KEEL_CHECK(stored_length_crc == crc32c_mask(crc), where, ": string length checksum does not match: stored ",
             hex32(stored_length_crc), ", computed ", hex32(crc32c_mask(crc)));
  crc = crc32c_extend(crc, p + pos, 4);
  pos += 4;
  KEEL_CHECK(n - pos == total, where, ": string tensor holds ", n - pos, " payload bytes, its lengths say ",
             total);
  crc = crc32c_extend(crc, p + pos, total);
  KEEL_CHECK(crc32c_mask(crc) == masked_crc, where, ": checksum does not match: stored ", hex32(masked_crc),
             ", computed ", hex32(crc32c_mask(crc)));
  Tensor t = Tensor::empty(shape, DType::string);
  for (int64_t i = 0; i < numel; i++) {
    t.str(i).assign(p + pos, lengths[i]);
    pos += lengths[i];
  }
  return t;
}

}  // namespace bundle_detail
}  // namespace keel
