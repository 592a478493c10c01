#include "keel/graph/storage.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "keel/graph/detail/buffer_cache.h"
#include "keel/graph/detail/env_size.h"
#include "keel/graph/detail/huge_pages.h"
#include "keel/graph/error.h"

namespace keel {

namespace {

// Buffers of at least 32 MiB (a training set, an embedding table) ask for transparent huge pages on
// the 2 MiB-aligned part of their range, before the first touch (madvise: the mode Debian's kernels
// default to). One fault then maps 2 MiB instead of 4 KiB, and rows gathered at random from the array
// (fit's shuffled batches) stop missing the TLB: an mlp128_bs256 epoch on Fashion-MNIST trains ~1.8x
// faster. Smaller buffers stay on 4 KiB pages: on the benchmark VM, huge pages for the 6.5 MB tensors
// of ckpt_io_262MB made restore 2.5x faster but save ~30% slower, and no training workload gained from
// them (README, "Memory"). KEEL_THP_MIN_MB moves the threshold (a huge value turns it off). Advice
// only: where THP is off or unsupported, madvise fails and nothing changes.
size_t huge_page_threshold() {
  static const size_t bytes = [] {
    const auto mb = static_cast<size_t>(detail::env_megabytes("KEEL_THP_MIN_MB", 32));
    return std::max(mb << 20, detail::kHugePageBytes);
  }();
  return bytes;
}

}  // namespace

Storage::Storage(DType dtype, int64_t numel, bool zero) : numel_(numel), dtype_(dtype) {
  KEEL_CHECK(numel >= 0, "Storage: negative element count ", numel);
  const size_t elem = dtype_size(dtype);
  KEEL_CHECK(static_cast<uint64_t>(numel) <= (uint64_t{1} << 62) / elem, "Storage: ", numel,
             " elements of ", dtype_name(dtype), " is too large");
  nbytes_ = static_cast<size_t>(numel) * elem;
  const size_t alloc = ((nbytes_ + kAlignment - 1) / kAlignment) * kAlignment;
  if (alloc == 0) return;
  if (alloc <= kInlineBytes && dtype != DType::string) {
    data_ = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(inline_) + kAlignment - 1) & ~(kAlignment - 1));
    if (zero) std::memset(data_, 0, alloc);
    return;
  }
  // malloc plus manual alignment: much cheaper than aligned_alloc for the many tiny tensors of a graph.
  // Numeric buffers of 1 MiB or more may come from the cache of freed ones (detail/buffer_cache.h).
  const bool numeric = dtype != DType::string;
  raw_ = numeric ? detail::buffer_cache_take(alloc + kAlignment) : nullptr;
  const bool fresh = raw_ == nullptr;
  if (fresh) raw_ = std::malloc(alloc + kAlignment);
  if (!raw_)
    throw AllocationError(detail::concat("Storage: cannot allocate ", alloc, " bytes for ", numel, " elements of ",
                                         dtype_name(dtype)));
  data_ = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw_) + kAlignment - 1) & ~(kAlignment - 1));
  if (fresh && alloc >= huge_page_threshold()) detail::advise_huge_pages(data_, alloc);  // before the first touch
  if (dtype == DType::string) {
    auto* s = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < numel; ++i) new (s + i) std::string();
  } else if (zero) {
    std::memset(data_, 0, alloc);
  }
}

Storage::~Storage() {
  if (!data_) return;
  if (dtype_ == DType::string) {
    auto* s = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < numel_; ++i) s[i].~basic_string();
  }
  if (!raw_) return;
  const size_t alloc = ((nbytes_ + kAlignment - 1) / kAlignment) * kAlignment;
  if (dtype_ == DType::string || !detail::buffer_cache_give(raw_, alloc + kAlignment)) std::free(raw_);
}

}  // namespace keel
