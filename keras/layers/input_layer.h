// InputLayer and Input(): the entry of a functional model or a Sequential.
//
//   KerasTensor x = keras::Input({28, 28, 1});                       // "input_1", shape [None,28,28,1]
//   KerasTensor ids = keras::Input(InputOptions({10}).dtype(DType::i32).name("tokens"));
#pragma once

#include "keel/keras/layers/layer.h"

namespace keel::keras {

struct InputOptions {
  Shape shape_;  // without the batch dimension
  std::optional<int64_t> batch_size_;
  std::string name_;
  DType dtype_ = DType::f32;
  InputOptions(Shape shape) : shape_(std::move(shape)) {}
  InputOptions& batch_size(int64_t b) { batch_size_ = b; return *this; }
  InputOptions& name(std::string n) { name_ = std::move(n); return *this; }
  InputOptions& dtype(DType d) { dtype_ = d; return *this; }
};

namespace layers {
class InputLayer : public LayerImpl<InputLayer> {
 public:
  // batch_input_shape includes the batch dimension (-1 for None). An empty name gives "input_1", ...
  InputLayer(const Shape& batch_input_shape, DType dtype = DType::f32, const std::string& name = "");
  Tensor call(const Tensor& x, bool training) override;
  DType compute_output_dtype(const std::vector<DType>&) const override { return dtype_; }
  bool autocast() const override { return false; }  // it has a dtype of its own
  Json get_config() const override;
  DType dtype() const { return dtype_; }
  // The symbolic tensor this layer produces (its node 0). The layer must be owned by a shared_ptr.
  KerasTensor output();

 private:
  DType dtype_;
};
}  // namespace layers

KerasTensor Input(const InputOptions& options);
inline KerasTensor Input(Shape shape) { return Input(InputOptions(std::move(shape))); }

// "float32", "int32", ... as Keras writes dtypes.
std::string keras_dtype_name(DType d);
DType dtype_from_keras_name(const std::string& name);

}  // namespace keel::keras
