// The layer registry: Keras class name -> factory from a layer config. model_from_json/load_model use
// it; users add their own classes.
//
//   class MyLayer : public keras::LayerImpl<MyLayer> {
//    public:
//     static std::shared_ptr<keras::Layer> from_config(const keras::Json& config);
//     ...
//   };
//   keras::register_layer<MyLayer>("MyLayer");
//   auto layer = keras::layer_from_config({{"class_name", "MyLayer"}, {"config", {...}}});
//
// Built-in: InputLayer, Dense, Dropout, Flatten, Reshape, Activation, Conv2D, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D, BatchNormalization, LayerNormalization, Embedding, LSTM,
// Bidirectional, Concatenate, Add, and the models Sequential, Functional (and "Model", its older name).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "keel/keras/layers/layer.h"

namespace keel::keras {

using LayerFactory = std::function<std::shared_ptr<Layer>(const Json& config)>;

// Registers (or replaces) a class name.
void register_layer(const std::string& class_name, LayerFactory factory);
template <class L>
void register_layer(const std::string& class_name) {
  register_layer(class_name, [](const Json& config) { return L::from_config(config); });
}
bool is_layer_registered(const std::string& class_name);
std::vector<std::string> registered_layers();

// From {"class_name": ..., "config": {...}}. An unknown class throws
// `Unknown layer: 'GRU'. Register it with keras::register_layer<T>("GRU")`.
std::shared_ptr<Layer> layer_from_config(const Json& layer_entry);

// The common arguments (name, trainable, batch_input_shape) of a layer config.
LayerArgs layer_args_from_config(const Json& config);

}  // namespace keel::keras
