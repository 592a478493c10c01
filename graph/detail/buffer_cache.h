// A cache of freed tensor buffers for reuse (internal to keel; graph/storage.cpp is its one user).
//
//   void* raw = detail::buffer_cache_take(bytes);        // a cached malloc'd block of exactly `bytes`, or null
//   if (!raw) raw = std::malloc(bytes);
//   ...
//   if (!detail::buffer_cache_give(raw, bytes)) std::free(raw);   // kept, or the caller frees it
//
// Why: a training step allocates and frees the same large temporaries every time (an LSTM's gates over
// all its time steps: 20 MB each in lstm_bs64). glibc hands such blocks back to the kernel when they are
// freed (munmap, or trimming the top of the heap), so every step faulted them in again, 4 KiB at a time:
// a third of lstm_bs64's time went to page faults. Like TensorFlow's BFC allocator and PyTorch's CUDA
// caching allocator, keel keeps freed blocks and hands them out again, here only for an exact size match
// (a training loop repeats its sizes) and only for blocks from 1 MiB to a quarter of the cap (smaller
// blocks are cheap for malloc; larger ones, a training set, are freed). The cached total stays under the
// cap, KEEL_BUFFER_CACHE_MB (default 256; 0 turns the cache off): a block that does not fit pushes out
// the least recently cached ones. Thread-safe. Cached memory still counts in the process's RSS;
// buffer_cache_clear() returns it. Off under AddressSanitizer, so that ASan keeps seeing every use after
// free.
#pragma once

#include <cstddef>

namespace keel::detail {

void* buffer_cache_take(size_t bytes) noexcept;
bool buffer_cache_give(void* raw, size_t bytes) noexcept;
size_t buffer_cache_bytes() noexcept;  // bytes cached now
size_t buffer_cache_cap() noexcept;    // the cap (0: the cache is off)
void buffer_cache_clear() noexcept;     // frees every cached block

}  // namespace keel::detail
