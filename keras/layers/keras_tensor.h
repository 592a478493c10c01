// KerasTensor: a symbolic tensor of the functional API. It has a shape (-1 for an unknown dimension,
// Keras's None), a dtype, and remembers which layer call produced it.
//
//   KerasTensor inputs = keras::Input({784});                    // shape [-1, 784]
//   KerasTensor x = layers::Dense(64, "relu")(inputs);            // records a node on the Dense layer
//   Model model(inputs, layers::Dense(10)(x));
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/dtype.h"
#include "keel/graph/shape.h"

namespace keel::keras {

class Layer;

class KerasTensor {
 public:
  KerasTensor() = default;
  KerasTensor(Shape shape, DType dtype, std::shared_ptr<Layer> layer, int64_t node_index, int64_t tensor_index)
      : shape_(std::move(shape)), dtype_(dtype), layer_(std::move(layer)), node_index_(node_index),
        tensor_index_(tensor_index) {}

  bool defined() const { return layer_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  // The producing layer, the index of the call (node) on it, and the output index of that call.
  const std::shared_ptr<Layer>& layer() const { return layer_; }
  int64_t node_index() const { return node_index_; }
  int64_t tensor_index() const { return tensor_index_; }
  bool same_as(const KerasTensor& o) const {
    return layer_ == o.layer_ && node_index_ == o.node_index_ && tensor_index_ == o.tensor_index_;
  }

 private:
  Shape shape_;
  DType dtype_ = DType::f32;
  std::shared_ptr<Layer> layer_;
  int64_t node_index_ = 0;
  int64_t tensor_index_ = 0;
};

// "(None, 30, 30, 16)" as Python prints a Keras shape tuple; "(None,)" for rank 1.
std::string keras_shape_str(const Shape& s);
// "[None,784]": keel's shape_str with None for unknown dimensions (used in error messages).
std::string shape_str_none(const Shape& s);

}  // namespace keel::keras
