// GeneratorTrackable: makes a Generator's state (seed, counter) part of a checkpoint, exactly.
//
//   Generator gen(42);
//   Checkpoint ckpt({{"model", model}, {"rng", std::make_shared<GeneratorTrackable>(gen)}});
//
// The generator is referenced, not owned: it must outlive the trackable. Both integers are stored as
// versioned non-tensor state (attribute KEEL_STATE), read back bit for bit. With required = false the
// state is restored when a checkpoint has it and its absence is no error (state_required()):
//
//   track("_random_generator", std::make_shared<GeneratorTrackable>(generator(), /*required=*/false));
#pragma once

#include "keel/checkpoint/trackable.h"
#include "keel/graph/generator.h"

namespace keel {

class GeneratorTrackable : public Trackable {
 public:
  explicit GeneratorTrackable(Generator& gen, bool required = true) : gen_(gen), required_(required) {}
  Generator& generator() const { return gen_; }

  bool has_state() const override { return true; }
  bool state_required() const override { return required_; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  Generator& gen_;
  bool required_;
};

}  // namespace keel
