// A size-class pool for the small objects every op makes: graph nodes, tensor handles and storage
// headers (internal to keel).
//
//   void* p = detail::pool_allocate(144);   // 16-byte aligned, bytes <= kPoolMaxBlock
//   detail::pool_deallocate(p, 144);        // the same byte count
//   auto node = std::allocate_shared<MyNode>(detail::PoolAllocator<MyNode>(), ...);
//
// Why: a recorded graph keeps one node per op alive until backward, so a long forward touches fresh
// memory at every op. Fresh 4 KiB pages are expensive (a page fault each, ~10 us under some
// hypervisors); the pool carves blocks from 2 MiB chunks that the kernel may back with one
// transparent huge page (madvise on these chunks, detail/huge_pages.h; no process-wide setting), and
// reuses freed blocks through a free list per size class (multiples of 16 bytes). Memory of freed
// blocks is kept for reuse, like malloc's, so the pool's footprint is the peak of live small objects.
// Thread-safe: any thread may free a block another thread allocated.
//
// keel's objects go through the pool only when kPoolEnabled; under AddressSanitizer they use plain
// operator new, so that ASan and LeakSanitizer keep watching every node's and tensor's lifetime (the
// pool itself is still built and tested there, with its free blocks poisoned).
#pragma once

#include <cstddef>
#include <new>

namespace keel::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kPoolEnabled = false;
#else
inline constexpr bool kPoolEnabled = true;
#endif

inline constexpr size_t kPoolGranule = 16;     // block sizes are multiples of this, and so are alignments
inline constexpr size_t kPoolMaxBlock = 512;   // larger requests are not accepted
inline constexpr size_t kPoolChunkBytes = size_t{2} << 20;

void* pool_allocate(size_t bytes);             // throws std::bad_alloc when no memory is left
void pool_deallocate(void* p, size_t bytes) noexcept;

// An allocator for std::allocate_shared: the pool when enabled and the object fits, operator new otherwise.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  static constexpr bool pooled(size_t n) {
    return kPoolEnabled && alignof(T) <= kPoolGranule && n == 1 && sizeof(T) <= kPoolMaxBlock;
  }
  T* allocate(size_t n) {
    if (pooled(n)) return static_cast<T*>(pool_allocate(sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (pooled(n)) return pool_deallocate(p, sizeof(T));
    ::operator delete(p, std::align_val_t(alignof(T)));
  }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const PoolAllocator<U>&) const noexcept { return false; }
};

}  // namespace keel::detail
