// Model weights to and from files, as Keras's model.save_weights / model.load_weights.
//
//   keras::save_weights(model, "/tmp/w.h5");              // Keras HDF5 weights layout
//   keras::save_weights(model, "/tmp/run/weights");       // tensor bundle + /tmp/run/checkpoint
//   auto r = keras::load_weights(model, "/tmp/w.h5");     // by layer order (Keras's rule)
//   r = keras::load_weights(model, "w.h5", LoadWeightsOptions{true, true});  // by name, skip mismatches
//   for (const auto& s : r.skipped) std::cout << s << "\n";
//
// `.h5` (or `.hdf5`, or `.keras`: HDF5 as in tf.keras 2.4-2.12): layer names, weight names "dense/kernel:0",
// model.layers() order.
// Anything else: a TensorFlow object-based checkpoint with the model as root (keys such as
// `layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`; a compiled model adds `optimizer/iter` and
// slots `layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/...`, which loading restores, as tf.keras) and the `checkpoint` state file in its
// directory listing only this prefix (as tf.keras writes it), so latest_checkpoint(dir) finds it.
//
// Loading validates every layer and weight (count, shape, dtype) before assigning anything; a mismatch
// throws keel::Error naming the layer, the weight, both shapes and the file, e.g.
//   load_weights: layer 'dense_1' weight 'kernel': model has [128,10] f32, file has [64,10] f32 (file w.h5)
#pragma once

#include <string>
#include <vector>

#include "keel/keras/model.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/load_options.h"

namespace keel::keras {

// True when `path` names an HDF5 file by its suffix (.h5, .hdf5, .keras).
bool is_h5_path(const std::string& path);

void save_weights(const Model& model, const std::string& path);
LoadWeightsResult load_weights(Model& model, const std::string& path, const LoadWeightsOptions& options = {});

// The model's weights per layer with weights in model order, as the HDF5 files hold them
// ("dense/kernel:0"); layers without weights are listed with no weights.
std::vector<H5LayerWeights> model_h5_layers(const Model& model);
// Assigns the /model_weights content of a Keras file to `model` (order or by_name); `file` names
// the source in errors.
LoadWeightsResult load_h5_layers(Model& model, const std::vector<H5LayerWeights>& layers, const std::string& file,
                                 const LoadWeightsOptions& options);

// The model as a checkpoint root: its own shared_ptr when it is owned by one, else a non-owning alias.
std::shared_ptr<Trackable> model_as_trackable(const Model& model);

// Object-based checkpoint with the model as root: writes exactly `prefix` (no state file).
void write_model_checkpoint(const Model& model, const std::string& prefix);
// Restores `prefix` into the model; every weight of the model must be in the checkpoint with the
// same shape and dtype (checked before anything is assigned). The optimizer's iterations and slots,
// metric totals and generator states are restored too when both sides have them (a compiled model's
// optimizer creates the slots it is given; an uncompiled model keeps them until compile() tracks one).
struct ModelCheckpointRead {
  size_t weights = 0;       // model weights restored
  size_t other_values = 0;  // everything else restored now
  // The model had no weights yet (built lazily): the values wait and are applied as its layers build.
  bool deferred = false;
  // Keys of stored layers' values that match nothing in the model (a layer the model lacks).
  std::vector<std::string> unmatched;
};
ModelCheckpointRead read_model_checkpoint(Model& model, const std::string& prefix);

}  // namespace keel::keras
