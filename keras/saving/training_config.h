// Keras's training_config: how a model was compiled, as JSON, written by save() and read by load_model().
//
//   Json tc = training_config(model);          // {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
//                                              //  "weighted_metrics": null, "loss_weights": null,
//                                              //  "optimizer_config": {"class_name": "Adam", "config": {...}}}
//   model2->compile(compile_options_from_training_config(tc, "m.h5"));
//
// Keras 2.4's layout (saving_utils.model_metadata): a loss given by name stays a name, a loss object is
// {"class_name", "config"}; metrics likewise (names as given, objects serialized). Reading accepts what
// Keras 2.4 to 2.15 write: "Custom>Adam" optimizer classes, metrics nested per output ([[...]]) for a
// single-output model, "MeanMetricWrapper" metrics with "fn". Users' registered optimizers, losses and
// metrics are found by class name. "weighted_metrics" is written like "metrics" (a list or a dict by
// output name, as compile got them) or null when there are none, as Keras 2.4; reading takes the same
// forms, and a file without the key (or with null) compiles none.
// Several outputs, as Keras 2.4 writes compile's arguments: "loss" a name/object, a list (one per
// output) or a dict by output name; "loss_weights" null, a list or a dict; "metrics" a list (every
// output) or a dict of lists by output name, the metric objects as compile got them. One list per output
// ([[...], [...]], Keras 2.11+, in model.outputs order) is read as a dict by the output names given.
#pragma once

#include <string>
#include <vector>

#include "keel/keras/model.h"

namespace keel::keras {

// The compiled model's training_config (the model must be compiled).
Json training_config(const Model& model);
// `file` names the source in errors; `output_names` (the model's, in order) key metrics nested per output.
CompileOptions compile_options_from_training_config(const nlohmann::json& config, const std::string& file,
                                                   const std::vector<std::string>& output_names = {});

}  // namespace keel::keras
