// keras::Model's saving methods, as Keras's model.save_weights / model.load_weights / model.save.
#include "keel/keras/model.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/weights.h"

namespace keel::keras {

const CompileOptions* Model::compile_options() const { return trainer_ ? &trainer_->compile_options() : nullptr; }

void Model::save_weights(const std::string& path) const { keras::save_weights(*this, path); }

LoadWeightsResult Model::load_weights(const std::string& path, const LoadWeightsOptions& options) {
  return keras::load_weights(*this, path, options);
}

void Model::save(const std::string& path) const { save_model(*this, path); }

}  // namespace keel::keras
