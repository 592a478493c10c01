// Whole models to and from files, as Keras's model.save / keras.models.load_model.
//
//   keras::save_model(model, "/tmp/m.h5");        // Keras HDF5 full-model layout
//   keras::save_model(model, "/tmp/export/m");    // SavedModel-style directory
//   auto again = keras::load_model("/tmp/export/m");   // rebuilt from its config, weights restored
//
// `.h5`: root attrs model_config (to_json()), keras_version, backend; /model_weights as
// save_weights writes it; for a compiled model training_config (training_config.h) and
// /optimizer_weights in tf.keras 2.4's names (optimizer_weights.h); objects' non-tensor state (Dropout
// generators) in keel's own /keel_state group (object_states.h), which Keras ignores.
//
// Directory: saved_model.pb (a keel message, see keras/saving/FORMAT.md: the model config JSON, the
// Keras version, the serialized TrackableObjectGraph, the training_config of a compiled model),
// variables/variables.{index,data-00000-of-00001} (object-based checkpoint with the model as root: the
// weights, and for a compiled model `optimizer/iter` and the slots `<var>/.OPTIMIZER_SLOT/optimizer/m/...`)
// and an empty assets/. The directory is written beside the target as `<path>.keel-tmp-<pid>-<n>`,
// fsynced, then swapped in with one rename (renameat2 RENAME_EXCHANGE when the target exists); a killed
// save leaves the old one intact, and the next save to the same path removes its stale temporary.
//
// load_model rebuilds the model from its config (the layer registry, users' classes included), compiles
// it from training_config when there is one (optimizer, loss and metrics by class name or Keras name,
// users' registered ones included), then restores weights, optimizer iterations and slots, and object
// states, so that fit(initial_epoch=k) continues bit for bit where the saved model stopped.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "keel/keras/model.h"

namespace keel::keras {

inline constexpr const char* kSavedModelFilename = "saved_model.pb";
inline constexpr const char* kSavedModelFormat = "keel.keras.saved_model";

// `hook`, when set, is called with a stage name ("temp_written", "swapped") for crash tests.
void save_model(const Model& model, const std::string& path, const std::function<void(const char*)>& hook = {});
std::shared_ptr<Model> load_model(const std::string& path);

// The saved_model.pb message.
struct SavedModelProto {
  std::string format = kSavedModelFormat;  // field 1
  std::string keras_version = kKerasVersion;  // field 2
  std::string backend = "tensorflow";         // field 3
  std::string model_config;                   // field 4, JSON text
  std::string object_graph;                   // field 5, serialized tf.TrackableObjectGraph
  std::string training_config;                // field 6, JSON text; empty for an uncompiled model
};
std::string serialize_saved_model(const SavedModelProto& m);
// `file` names the source in errors; unknown fields are skipped, a missing format marker is an error.
SavedModelProto parse_saved_model(const std::string& bytes, const std::string& file);

}  // namespace keel::keras
