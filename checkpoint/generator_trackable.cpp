#include "keel/checkpoint/generator_trackable.h"

#include "keel/checkpoint/state.h"

namespace keel {
namespace {

struct GeneratorStateV1 {
  uint64_t seed = 0;
  uint64_t counter = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & seed;
    ar & counter;
  }
};

}  // namespace
}  // namespace keel

BOOST_CLASS_VERSION(keel::GeneratorStateV1, 1)

namespace keel {

std::string GeneratorTrackable::save_state() const {
  GeneratorStateV1 s{gen_.seed(), gen_.counter()};
  return state_to_string(s, "GeneratorTrackable");
}

void GeneratorTrackable::restore_state(const std::string& bytes) {
  auto s = state_from_string<GeneratorStateV1>(bytes, "GeneratorTrackable");
  gen_.set_state(Generator::State{s.seed, s.counter});
}

}  // namespace keel
