// Sequential: a plain stack of layers, as in Keras.
//
//   keras::Sequential model({
//       layers::Conv2D(Conv2DOptions(16, 3).activation("relu").input_shape({32, 32, 3})),
//       layers::MaxPooling2D(4),
//       layers::BatchNormalization(),
//       layers::Flatten(),
//       layers::Dense(32, "relu"),
//       layers::Dropout(0.5),
//       layers::Dense(10, "softmax"),
//   });
//   model.add(layers::Dense(4));        // layers may be temporaries or std::shared_ptr
//   model.summary();
//
// With input_shape on the first layer (or an Input added first) the model is built at once, with an
// InputLayer named "<first layer>_input" (or the Input's name); otherwise on the first call or build().
#pragma once

#include "keel/keras/model.h"

namespace keel::keras {

class Sequential : public LayerImpl<Sequential, Model> {
 public:
  explicit Sequential(const std::vector<LayerArg>& layers = {}, const std::string& name = "");

  // A layer (temporary or shared_ptr), or keras::Input(...) as the first entry.
  void add(const LayerArg& layer);
  void add(const KerasTensor& input);
  void pop();

  // Without the InputLayer, as Keras's Sequential.layers.
  std::vector<std::shared_ptr<Layer>> layers() const override { return stack_; }
  // Keras's model.build((None, 784)): the shape includes the batch dimension.
  void build(const Shape& input_shape) override;
  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  // {"name": ..., "layers": [{"class_name": "InputLayer", ...}, {"class_name": "Dense", "config": ...}, ...]}
  Json get_config() const override;
  const std::shared_ptr<layers::InputLayer>& input_layer() const { return input_layer_; }

 private:
  void rebuild_graph();
  std::vector<std::shared_ptr<Layer>> stack_;
  std::shared_ptr<layers::InputLayer> input_layer_;
};

}  // namespace keel::keras
