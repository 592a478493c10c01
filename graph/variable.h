// Variable: a named, mutable tensor that owns its value across steps (weights, optimizer slots,
// counters). Copies of a Variable handle refer to the same variable.
//
//   Variable w("kernel", Tensor::zeros({784, 128}));        // trainable: value() requires grad
//   Variable step("iterations", Tensor::scalar(0, DType::i64), /*trainable=*/false);
//   w.assign(new_value);                                   // in place; shape and dtype must match
//
// value() is a leaf tensor; gradients w.r.t. it accumulate in value().grad() or come from a
// GradientTape. assign() writes into the same storage, so tensors taken from value() see the update.
#pragma once

#include <memory>
#include <string>

#include "keel/graph/tensor.h"

namespace keel {

class Variable {
 public:
  Variable() = default;
  Variable(std::string name, const Tensor& initial, bool trainable = true);

  bool defined() const { return impl_ != nullptr; }
  const std::string& name() const;
  bool trainable() const;
  const Tensor& value() const;
  DType dtype() const { return value().dtype(); }
  const Shape& shape() const { return value().shape(); }
  Tensor grad() const { return value().grad(); }

  // Copies `v` into the variable's storage. Shape and dtype must match; the error names the variable.
  void assign(const Tensor& v) const;
  // Replaces the storage with a copy of `v` of any shape (used when a variable is (re)built).
  void reset(const Tensor& v) const;
  // True when both handles refer to one variable.
  bool is(const Variable& other) const { return impl_ == other.impl_; }
  const void* id() const { return impl_.get(); }

 private:
  struct Impl {
    std::string name;
    bool trainable = true;
    Tensor value;
  };
  std::shared_ptr<Impl> impl_;
};

}  // namespace keel
