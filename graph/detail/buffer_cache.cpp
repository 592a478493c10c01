#include "keel/graph/detail/buffer_cache.h"

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <mutex>

#include "keel/graph/detail/env_size.h"

namespace keel::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

constexpr size_t kMinBlock = size_t{1} << 20;

size_t cap_bytes() {
  static const size_t bytes = [] {
    const uint64_t mb = env_megabytes("KEEL_BUFFER_CACHE_MB", 256);
    return kCacheEnabled ? static_cast<size_t>(mb << 20) : size_t{0};
  }();
  return bytes;
}

struct Block {
  void* raw;
  size_t bytes;
};

struct Cache {
  std::mutex mu;
  std::list<Block> blocks;  // most recently given first
  size_t total = 0;
};

// Never destroyed: tensors freed by other static destructors at exit still find it.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

void* buffer_cache_take(size_t bytes) noexcept {
  if (bytes < kMinBlock || bytes > cap_bytes() / 4) return nullptr;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto it = c.blocks.begin(); it != c.blocks.end(); ++it) {
    if (it->bytes != bytes) continue;
    void* raw = it->raw;
    c.total -= bytes;
    c.blocks.erase(it);
    return raw;
  }
  return nullptr;
}

bool buffer_cache_give(void* raw, size_t bytes) noexcept {
  const size_t cap = cap_bytes();
  if (raw == nullptr || bytes < kMinBlock || bytes > cap / 4) return false;
  Cache& c = cache();
  std::list<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    while (c.total + bytes > cap) {
      c.total -= c.blocks.back().bytes;
      evicted.splice(evicted.end(), c.blocks, std::prev(c.blocks.end()));
    }
    try {
      c.blocks.push_front({raw, bytes});
    } catch (...) {  // no memory for the list node: the caller frees the block
      for (const Block& b : evicted) std::free(b.raw);
      return false;
    }
    c.total += bytes;
  }
  for (const Block& b : evicted) std::free(b.raw);
  return true;
}

size_t buffer_cache_bytes() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.total;
}

size_t buffer_cache_cap() noexcept { return cap_bytes(); }

void buffer_cache_clear() noexcept {
  Cache& c = cache();
  std::list<Block> all;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    all.swap(c.blocks);
    c.total = 0;
  }
  for (const Block& b : all) std::free(b.raw);
}

}  // namespace keel::detail
