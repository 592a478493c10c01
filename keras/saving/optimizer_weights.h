// A compiled model's optimizer state as Keras's /optimizer_weights (HDF5 full-model files).
//
//   NamedTensors w = optimizer_h5_weights(model);   // "Adam/iter:0", "Adam/dense/kernel/m:0", ... (Keras 2.4)
//   load_optimizer_h5_weights(*loaded, f.optimizer_weights, "m.h5");   // either naming scheme
//
// Writing uses tf.keras 2.4's (OptimizerV2) names and order: iterations, then for each slot name every
// trainable weight's slot (only weights the optimizer has slots for). Reading takes both schemes of
// optimizer_names.h; v2 slot names are mapped to keel's (SGD "m" -> "momentum", RMSprop "velocity" ->
// "rms", "average_gradient" -> "mg"). Every stored value is checked (its variable exists among the
// model's trainable weights, the optimizer has that slot, same shape and dtype) before anything is
// assigned; a mismatch throws keel::Error naming the stored weight, the variable, both shapes and the file.
// Missing slots are created (Optimizer::create_slot_for_restore), so the next step continues from them.
#pragma once

#include <string>

#include "keel/keras/model.h"
#include "keel/keras/saving/h5/keras_h5.h"

namespace keel::keras {

NamedTensors optimizer_h5_weights(const Model& model);
// Returns the number of values assigned.
size_t load_optimizer_h5_weights(Model& model, const NamedTensors& stored, const std::string& file);

}  // namespace keel::keras
