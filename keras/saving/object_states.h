// The non-tensor state of a model's objects (Trackable::has_state(): Dropout's generator
// "_random_generator", ...) for HDF5 full-model files, where Keras has no place for it.
//
//   NamedTensors s = model_object_states(model);   // {"layer-3.S_random_generator", u8 [n]}, ...
//   restore_model_object_states(*loaded, s, "m.h5");
//
// Each entry is named by the object's escaped path from the model (object_path.h), escaped once more as
// one local name so that it is a single HDF5 link ("layer-3/_random_generator" -> "layer-3.S_random_generator"),
// and holds the bytes of save_state() as a u8 vector. Restoring matches names to the live model's objects;
// a stored state without a live object of that path, or one that refuses its bytes, is a keel::Error naming
// the object and the file.
#pragma once

#include <string>

#include "keel/keras/model.h"
#include "keel/keras/saving/h5/keras_h5.h"

namespace keel::keras {

NamedTensors model_object_states(const Model& model);
// Returns the number of objects restored.
size_t restore_model_object_states(Model& model, const NamedTensors& states, const std::string& file);

}  // namespace keel::keras
