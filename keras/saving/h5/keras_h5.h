// The Keras HDF5 files at the level of named weights and JSON strings (no layer classes).
//
//   KerasH5File f = read_keras_h5("model.h5");          // model.save('m.h5') or model.save_weights('w.h5')
//   for (const H5LayerWeights& l : f.layers)            // layer_names order (every layer, weights or not)
//     for (const auto& [name, value] : l.weights) ...  // "dense/kernel:0" -> Tensor [784,16]
//   nlohmann::json::parse(*f.model_config);             // {"class_name": "Sequential", "config": ...}
//
//   write_keras_h5_model("out.h5", f);                 // crash-safe: temp file, fsync, rename, fsync dir
//   write_keras_h5_weights("out.weights.h5", f);       // the save_weights layout (no config/optimizer)
//
// Layouts (see keras/saving/h5/FORMAT.md): full model = root attrs keras_version, backend, model_config,
// training_config; /model_weights (attrs layer_names, backend, keras_version; one group per layer with
// weight_names; datasets at <layer>/<weight name>); /optimizer_weights (attr weight_names, datasets at
// <weight name>); /keel_state (keel's, same layout). Weights only = the /model_weights content at the file root. Both weight naming schemes
// (Keras 2 "dense/kernel:0", Keras 3 legacy "sequential/dense/kernel") are kept as stored. Any missing
// group or dataset, or unreadable attribute, throws keel::Error naming the file and the object path.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/graph/tensor.h"

namespace keel {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct H5LayerWeights {
  std::string layer_name;
  NamedTensors weights;  // weight_names order; names as stored, e.g. "dense/kernel:0"
};

enum class KerasH5Layout { full_model, weights_only };

struct KerasH5File {
  KerasH5Layout layout = KerasH5Layout::full_model;  // set by the reader; the writers ignore it
  // Written as Keras 2.15 writes them; Keras's loaders look at keras_version only to spot Keras 1 files.
  std::string keras_version = "2.15.0";
  std::string backend = "tensorflow";
  std::optional<std::string> model_config;     // JSON text, as stored
  std::optional<std::string> training_config;  // JSON text, only for compiled models
  std::vector<H5LayerWeights> layers;          // layer_names order
  // Weights the model owns itself (group top_level_model_weights). Newer tf.keras (2.15 in the fixtures)
  // always writes the group, possibly empty; tf.keras 2.4 files lack it (std::nullopt). The writers
  // write it unless nullopt.
  std::optional<NamedTensors> top_level_weights = NamedTensors{};
  NamedTensors optimizer_weights;  // weight_names order; written only when non-empty (as Keras does)
  // keel's own group /keel_state (full-model files only; Keras ignores it): objects' non-tensor state as
  // u8 vectors (keras/saving/object_states.h), same layout as optimizer_weights. Written when non-empty.
  NamedTensors keel_state;
};

KerasH5File read_keras_h5(const std::string& path);

// model.save_weights('w.h5'): root attrs layer_names, backend, keras_version; layer groups;
// top_level_model_weights. model_config, training_config and optimizer_weights are not written.
void write_keras_h5_weights(const std::string& path, const KerasH5File& file);
// model.save('m.h5'): needs model_config (a JSON object); training_config, when set, must be one too.
void write_keras_h5_model(const std::string& path, const KerasH5File& file);

// "dense/kernel:0" -> "dense/kernel"; names without a ":<digits>" suffix (Keras 3) are returned as is.
std::string strip_weight_suffix(const std::string& stored);
// The weight's own name, the last path component without suffix: "dense/kernel:0" -> "kernel",
// "sequential/dense/bias" -> "bias".
std::string weight_short_name(const std::string& stored);

}  // namespace keel
