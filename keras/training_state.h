// keras::TrainingState: where fit() is in its loop, as a checkpointable object, so that a resumed fit
// continues at the same step of the same epoch with the same data order. fit() owns it and shares it
// with its callbacks through TrainingControl::state; BackupAndRestore checkpoints it.
//
//   const TrainingState& s = *control()->state;
//   s.epoch(), s.step();     // the next batch fit runs: batch `step` of epoch `epoch`
//   s.shuffle_seed();        // epoch e's order is detail::epoch_permutation(samples, seed, e)
//                            // (with steps_per_epoch: each pass over the data's, keras/trainer_fit.cpp)
//
// The loop calls begin() before on_train_begin (so that a callback may restore a saved state there),
// at(epoch, step + 1) after each batch and at(epoch + 1, 0) once the epoch's validation is done,
// before on_epoch_end. State: versioned Boost text (keras/callbacks/state_io.h). Restoring checks
// that the saved fit trained on as many samples with as many steps per epoch as this one: another
// data set would silently resume into another order.
#pragma once

#include <cstdint>
#include <string>

#include "keel/checkpoint/trackable.h"

namespace keel::keras {

class TrainingState : public Trackable {
 public:
  // A new fit: epoch `initial_epoch`, step 0.
  void begin(int initial_epoch, int64_t samples, int64_t steps_per_epoch, uint64_t shuffle_seed);
  void at(int epoch, int64_t step);

  int epoch() const { return epoch_; }
  int64_t step() const { return step_; }
  uint64_t shuffle_seed() const { return seed_; }
  int64_t samples() const { return samples_; }
  int64_t steps_per_epoch() const { return steps_; }
  // Batches run since epoch 0: epoch * steps_per_epoch + step.
  int64_t global_step() const { return static_cast<int64_t>(epoch_) * steps_ + step_; }

  bool has_state() const override { return true; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  int epoch_ = 0;
  int64_t step_ = 0;
  uint64_t seed_ = 0;
  int64_t samples_ = 0;
  int64_t steps_ = 0;
};

}  // namespace keel::keras
