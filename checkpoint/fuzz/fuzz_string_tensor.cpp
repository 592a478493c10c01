// Fuzzes the DT_STRING decoder (bundle_detail::decode_strings) on hostile lengths and bytes.
#include <cstdlib>
#include <cstring>
#include <string>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"

using namespace keel;

namespace {

// Rewrites the length checksum in `b` and returns the masked entry checksum, as a writer would have.
uint32_t fix_checksums(std::string& b, uint64_t numel) {
  size_t pos = 0;
  uint32_t crc = 0;
  for (uint64_t i = 0; i < numel; i++) {
    uint64_t len = 0;
    if (!bundle_detail::get_varint64(b.data(), b.size(), &pos, &len)) return 0;
    if (len <= UINT32_MAX) {
      const auto l32 = static_cast<uint32_t>(len);
      crc = crc32c_extend(crc, &l32, 4);
    } else {
      crc = crc32c_extend(crc, &len, 8);
    }
  }
  if (b.size() - pos < 4) return 0;
  const uint32_t masked = crc32c_mask(crc);
  std::memcpy(b.data() + pos, &masked, 4);
  return crc32c_mask(crc32c_extend(crc, b.data() + pos, b.size() - pos));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* p = reinterpret_cast<const char*>(data);
  if (size < 1) return 0;
  const bool fix = data[0] & 1;
  size_t pos = 1;
  uint64_t numel = 0;
  if (!bundle_detail::get_varint64(p, size, &pos, &numel) || size - pos < 4) return 0;
  if (numel > (uint64_t(1) << 62)) return 0;  // not a shape a reader could have accepted
  uint32_t masked = 0;
  std::memcpy(&masked, p + pos, 4);
  pos += 4;
  std::string bytes(p + pos, size - pos);
  if (fix) masked = fix_checksums(bytes, numel);
  try {
    Tensor t = bundle_detail::decode_strings(bytes.data(), bytes.size(), {static_cast<int64_t>(numel)}, masked, "fuzz");
    size_t total = 0;
    for (int64_t i = 0; i < t.numel(); i++) total += t.str(i).size();
    if (total > bytes.size()) std::abort();
    // Re-encoding gives the same checksum (it covers the lengths' values, so non-minimal varints in the
    // input do not change it) and decodes to the same strings.
    std::string again;
    const uint32_t crc = crc32c_mask(bundle_detail::encode_strings(t, &again));
    if (crc != masked) std::abort();
    if (!bundle_detail::decode_strings(again.data(), again.size(), t.shape(), crc, "again").equal(t)) std::abort();
  } catch (const Error&) {
  }
  return 0;
}
