// Storage: one 64-byte aligned, zero-initialised buffer shared by reference between tensors.
// String tensors keep their elements as std::string objects constructed in the buffer.
#pragma once

#include <cstddef>
#include <memory>

#include "keel/graph/dtype.h"

namespace keel {

class Storage {
 public:
  static constexpr size_t kAlignment = 64;
  // Allocates room for `numel` elements of `dtype`; numeric buffers are zeroed unless `zero` is false
  // (for ops that write every element), strings are always default-constructed.
  Storage(DType dtype, int64_t numel, bool zero = true);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  // Counts in-place writes (Tensor::copy_/fill_/add_, Variable::assign, optimizer updates, checkpoint
  // reads): a recorded node's SavedTensor compares it at backward with the count it saw when recorded.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  static constexpr size_t kInlineBytes = 64;
  void* raw_ = nullptr;   // what malloc returned (null when the data lives in inline_)
  void* data_ = nullptr;  // raw_ (or inline_) rounded up to kAlignment
  // Tiny tensors (scalars, small vectors) keep their bytes here: one allocation fewer per tensor.
  unsigned char inline_[kInlineBytes + kAlignment];
  size_t nbytes_ = 0;
  int64_t numel_ = 0;
  uint64_t version_ = 0;
  DType dtype_;
};

}  // namespace keel
