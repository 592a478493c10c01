#include "keel/graph/detail/small_pool.h"

#include <pthread.h>
#include <sys/mman.h>

#include <cstdint>
#include <mutex>

#include "keel/graph/detail/huge_pages.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define KEEL_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define KEEL_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define KEEL_POOL_POISON(p, n) ((void)(p), (void)(n))
#define KEEL_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace keel::detail {

namespace {

constexpr size_t kClasses = kPoolMaxBlock / kPoolGranule;
static_assert(kPoolMaxBlock % kPoolGranule == 0 && kPoolChunkBytes % kPoolMaxBlock == 0);

struct FreeBlock {
  FreeBlock* next;
};

// A 2 MiB chunk aligned to 2 MiB (so that the kernel can back it with one huge page), from mmap.
char* new_chunk() {
  const size_t reserve = 2 * kPoolChunkBytes;
  void* m = ::mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t base = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = (base + kPoolChunkBytes - 1) & ~(uintptr_t{kPoolChunkBytes} - 1);
  if (aligned > base) ::munmap(m, aligned - base);
  const uintptr_t tail = aligned + kPoolChunkBytes;
  if (base + reserve > tail) ::munmap(reinterpret_cast<void*>(tail), base + reserve - tail);
  char* chunk = reinterpret_cast<char*>(aligned);
  advise_huge_pages(chunk, kPoolChunkBytes);  // one huge page where THP allows, else 4 KiB pages
  KEEL_POOL_POISON(chunk, kPoolChunkBytes);
  return chunk;
}

class Pool {
 public:
  Pool() {
    // Like malloc's lock: held across fork(), so that a child never inherits it locked mid-update.
    ::pthread_atfork([] { instance().mu_.lock(); }, [] { instance().mu_.unlock(); },
                     [] { instance().mu_.unlock(); });
  }
  // Never destroyed: blocks may be freed by static destructors that run after this file's.
  static Pool& instance() {
    static Pool* p = new Pool();
    return *p;
  }

  void* allocate(size_t cls) {
    const size_t size = (cls + 1) * kPoolGranule;
    std::lock_guard<std::mutex> lock(mu_);
    if (FreeBlock* b = free_[cls]) {
      KEEL_POOL_UNPOISON(b, size);
      free_[cls] = b->next;
      return b;
    }
    if (static_cast<size_t>(end_ - next_) < size) {
      next_ = new_chunk();  // the rest of the old chunk (< kPoolMaxBlock bytes) stays unused
      end_ = next_ + kPoolChunkBytes;
    }
    char* p = next_;
    next_ += size;
    KEEL_POOL_UNPOISON(p, size);
    return p;
  }

  void deallocate(void* p, size_t cls) {
    const size_t size = (cls + 1) * kPoolGranule;
    std::lock_guard<std::mutex> lock(mu_);
    auto* b = static_cast<FreeBlock*>(p);
    b->next = free_[cls];
    free_[cls] = b;
    // The link stays readable for the pool; the rest of the block is poisoned until it is reused.
    KEEL_POOL_POISON(reinterpret_cast<char*>(p) + sizeof(FreeBlock), size - sizeof(FreeBlock));
  }

 private:
  std::mutex mu_;
  FreeBlock* free_[kClasses] = {};
  char* next_ = nullptr;
  char* end_ = nullptr;
};

size_t size_class(size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kPoolGranule; }

// The pool is built while libkeel is loaded, before the program starts threads. Built lazily, a fork()
// that met another thread inside instance()'s first call would leave the child waiting forever on the
// half-done static initialization (and the fork handlers would not be registered yet).
[[maybe_unused]] const bool kPoolBuiltAtLoad = (Pool::instance(), true);

}  // namespace

void* pool_allocate(size_t bytes) {
  if (bytes > kPoolMaxBlock) throw std::bad_alloc();
  return Pool::instance().allocate(size_class(bytes));
}

void pool_deallocate(void* p, size_t bytes) noexcept {
  if (p) Pool::instance().deallocate(p, size_class(bytes));
}

}  // namespace keel::detail
