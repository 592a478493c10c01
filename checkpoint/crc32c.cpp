// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) and TensorFlow's masking.
// SSE4.2 crc32 instructions when the CPU has them (checked once), a slicing-by-8 table otherwise.
#include <array>
#include <cstring>

#include "keel/checkpoint/bundle.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace keel {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;
constexpr uint32_t kMaskDelta = 0xa282ead8u;

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

uint32_t extend_table(uint32_t crc, const uint8_t* p, size_t n) {
  static const Tables tables;
  const auto& t = tables.t;
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
// Three independent crc32 streams hide the instruction's 3-cycle latency; the three partial CRCs are
// joined by shifting a register over kStripe zero bytes (CRC is linear in the register), done with four
// 256-entry tables built once from the instruction itself.
constexpr size_t kStripe = 4096;

__attribute__((target("sse4.2"))) uint32_t shift_zeros_slow(uint32_t r, size_t n) {
  uint64_t c = r;
  for (size_t i = 0; i < n / 8; i++) c = _mm_crc32_u64(c, 0);
  return static_cast<uint32_t>(c);
}

struct ShiftTables {
  uint32_t t[4][256];
  ShiftTables() {
    uint32_t basis[32];
    for (int i = 0; i < 32; i++) basis[i] = shift_zeros_slow(1u << i, kStripe);
    for (int k = 0; k < 4; k++)
      for (uint32_t b = 0; b < 256; b++) {
        uint32_t v = 0;
        for (int j = 0; j < 8; j++)
          if (b >> j & 1) v ^= basis[8 * k + j];
        t[k][b] = v;
      }
  }
  uint32_t shift(uint32_t c) const {
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
  }
};

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  if (n >= 3 * kStripe) {
    static const ShiftTables tables;
    do {
      uint64_t c1 = 0, c2 = 0;
      for (size_t i = 0; i < kStripe; i += 8) {
        uint64_t a, b, d;
        std::memcpy(&a, p + i, 8);
        std::memcpy(&b, p + kStripe + i, 8);
        std::memcpy(&d, p + 2 * kStripe + i, 8);
        c = _mm_crc32_u64(c, a);
        c1 = _mm_crc32_u64(c1, b);
        c2 = _mm_crc32_u64(c2, d);
      }
      c = tables.shift(static_cast<uint32_t>(c)) ^ c1;
      c = tables.shift(static_cast<uint32_t>(c)) ^ c2;
      p += 3 * kStripe;
      n -= 3 * kStripe;
    } while (n >= 3 * kStripe);
  }
  while (n >= 8) {
    uint64_t a;
    std::memcpy(&a, p, 8);
    c = _mm_crc32_u64(c, a);
    p += 8;
    n -= 8;
  }
  while (n--) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}

bool have_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (have_sse42()) return extend_sse42(crc, p, n);
#endif
  return extend_table(crc, p, n);
}

uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

uint32_t crc32c_unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

namespace detail {
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n) {
  return extend_table(crc, static_cast<const uint8_t*>(data), n);
}
}  // namespace detail

}  // namespace keel
