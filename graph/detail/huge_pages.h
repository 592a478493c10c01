// advise_huge_pages(p, n): asks the kernel to back the 2 MiB-aligned part of [p, p + n) with transparent
// huge pages (madvise MADV_HUGEPAGE; the THP mode Debian's kernels default to is "madvise"). Advice
// only: where THP is off or unsupported it is refused and the range keeps 4 KiB pages. Call it before
// the range is first touched: pages already faulted in stay 4 KiB until khugepaged gets to them.
// Used by the small-object pool (its 2 MiB chunks) and by Storage (buffers of 32 MiB or more).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace keel::detail {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

inline void advise_huge_pages(void* p, size_t n) {
#ifdef MADV_HUGEPAGE
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(uintptr_t{kHugePageBytes} - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace keel::detail
