#include "keel/keras/training_state.h"

#include "keel/graph/error.h"
#include "keel/keras/callbacks/state_io.h"

namespace keel::keras {

namespace {
constexpr unsigned kTrainingStateVersion = 1;
}

void TrainingState::begin(int initial_epoch, int64_t samples, int64_t steps_per_epoch, uint64_t shuffle_seed) {
  epoch_ = initial_epoch;
  step_ = 0;
  seed_ = shuffle_seed;
  samples_ = samples;
  steps_ = steps_per_epoch;
}

void TrainingState::at(int epoch, int64_t step) {
  epoch_ = epoch;
  step_ = step;
}

std::string TrainingState::save_state() const {
  return detail::write_state("TrainingState", kTrainingStateVersion, [&](detail::OArchive& ar) {
    ar << epoch_ << step_ << seed_ << samples_ << steps_;
  });
}

void TrainingState::restore_state(const std::string& bytes) {
  int epoch = 0;
  int64_t step = 0, samples = 0, steps = 0;
  uint64_t seed = 0;
  detail::read_state(bytes, "TrainingState", kTrainingStateVersion, [&](detail::IArchive& ar, unsigned) {
    ar >> epoch >> step >> seed >> samples >> steps;
  });
  KEEL_CHECK(samples == samples_ && steps == steps_, "TrainingState: the saved fit ran over ", samples,
             " training samples in ", steps, " steps per epoch, this fit over ", samples_, " in ", steps_,
             " (resume with the same data, batch_size, validation_split and steps_per_epoch)");
  KEEL_CHECK(epoch >= 0 && step >= 0 && step <= steps, "TrainingState: corrupt position (epoch ", epoch, ", step ",
             step, " of ", steps, ")");
  epoch_ = epoch;
  step_ = step;
  seed_ = seed;
}

}  // namespace keel::keras
