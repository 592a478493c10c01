// Options and result of loading weights (keras::load_weights and Model::load_weights).
//
//   keras::LoadWeightsResult r = model.load_weights("w.h5", keras::LoadWeightsOptions{true, true});
//   for (const auto& s : r.skipped) std::cout << s << "\n";     // by name, mismatches skipped
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace keel::keras {

struct LoadWeightsOptions {
  bool by_name = false;        // h5 only: match layers by name instead of order
  bool skip_mismatch = false;  // h5 with by_name only: skip layers whose weights do not fit
};

struct LoadWeightsResult {
  std::string path;              // the file or prefix read
  bool h5 = false;
  size_t weights_loaded = 0;     // model weights assigned
  // Checkpoints only: other values restored with the weights (optimizer iterations and slots, metric
  // totals, generator states); an uncompiled model gets its optimizer's values when compile() runs.
  size_t other_values_loaded = 0;
  std::vector<std::string> skipped;  // one line per skipped layer (skip_mismatch), or file layers unmatched by name
                                     // (h5), or stored layer values that match nothing in the model (checkpoints)
  // Checkpoints only: the model had no weights yet (a Sequential without input_shape, never called); as
  // tf.keras does, the values wait and are applied to each layer's weights when it builds.
  bool deferred = false;
};

}  // namespace keel::keras
