// SavedTensor: a tensor a recorded node's backward reads, with the storage version it had when recorded.
//
//   record("mul", {a, b}, out, [as = SavedTensor(a), bs = SavedTensor(b)](const Tensor& g) {
//     return std::vector<Tensor>{mul(g, bs), mul(g, as)};   // converts to const Tensor&, checking
//   });
//
// Saved tensors alias the caller's storage (no copy). An in-place write to that storage afterwards
// (Tensor::copy_/fill_/add_, Variable::assign, an optimizer step, a checkpoint read) bumps its version;
// reading the saved tensor in backward then throws SavedTensorModified, which the engine turns into a
// keel::Error naming the node, instead of computing a gradient from the new values. The check is one
// load and compare per read; saving is one load.
#pragma once

#include <cstdint>

#include "keel/graph/error.h"
#include "keel/graph/tensor.h"

namespace keel {

// Thrown by SavedTensor::get(); the engine catches it and rethrows a keel::Error naming the node.
class SavedTensorModified : public Error {
 public:
  using Error::Error;
};

class SavedTensor {
 public:
  SavedTensor() = default;  // undefined: nothing saved
  explicit SavedTensor(const Tensor& t) : t_(t.defined() ? t.detach() : Tensor()) {
    if (t_.defined()) version_ = t_.version();
  }

  bool defined() const { return t_.defined(); }
  // The saved tensor; throws SavedTensorModified when its storage was written in place since saving.
  const Tensor& get() const {
    if (t_.defined() && __builtin_expect(t_.version() != version_, 0)) fail_modified();
    return t_;
  }
  operator const Tensor&() const { return get(); }  // NOLINT: implicit, so ops read it as a Tensor

 private:
  [[noreturn]] void fail_modified() const;
  Tensor t_;
  uint64_t version_ = 0;
};

}  // namespace keel
