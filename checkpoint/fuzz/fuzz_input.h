// Input layout shared by the bundle fuzzers and their seed generator.
//   bundle_index:  varint64 index_len | index bytes | data file bytes
//   string_tensor: u8 flags | varint64 numel | u32 masked crc | entry bytes
//                  (flags bit 0: the harness rewrites both checksums to match, to reach the payload)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace keel::fuzz {

inline void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace keel::fuzz
