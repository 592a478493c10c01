// env_megabytes("KEEL_X_MB", 32): a size in MiB from the environment, or the fallback when the variable
// is unset or not a whole number of at most 2^30 (internal to keel: the memory thresholds of
// graph/storage.cpp and graph/detail/buffer_cache.cpp).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace keel::detail {

inline uint64_t env_megabytes(const char* name, uint64_t fallback) {
  const char* env = std::getenv(name);
  if (env == nullptr) return fallback;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(env, &end, 10);
  return errno == 0 && end != env && *end == '\0' && v <= (uint64_t{1} << 30) ? v : fallback;
}

}  // namespace keel::detail
