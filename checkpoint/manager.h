// CheckpointManager: numbered checkpoints in a directory, the `checkpoint` state file, and pruning,
// like tf.train.CheckpointManager.
//
//   Checkpoint ckpt({{"model", model}, {"optimizer", opt}});
//   CheckpointManager mgr(ckpt, "/tmp/run", CheckpointManagerOptions().max_to_keep(3));
//   mgr.restore_or_initialize();            // restores the latest checkpoint if there is one
//   for (...) { train(); mgr.save(); }      // /tmp/run/ckpt-1, ckpt-2, ... keeps the newest 3
//
// Order of a save (crash-safe at every step): the bundle is written and made durable (its index
// rename is the commit point); the state file is atomically replaced to name it; only then are
// checkpoints beyond max_to_keep deleted, and the state file is written once more without them.
// A crash at any moment leaves the previous checkpoint and a valid state file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/checkpoint_state.h"

namespace keel {

class CheckpointManagerOptions {
 public:
  // Newest checkpoints kept (> 0, as in TensorFlow); nullopt keeps all (and never deletes).
  CheckpointManagerOptions& max_to_keep(std::optional<int> n) { max_to_keep_ = n; return *this; }
  // Additionally keep one checkpoint every `hours` among those pruned.
  CheckpointManagerOptions& keep_checkpoint_every_n_hours(std::optional<double> hours) {
    keep_every_n_hours_ = hours;
    return *this;
  }
  CheckpointManagerOptions& checkpoint_name(std::string name) { name_ = std::move(name); return *this; }
  // Save at most every `steps` of `step_counter` (an integer scalar Variable), as TF's step_counter
  // and checkpoint_interval: save() returns nullopt when the counter has not moved on far enough.
  CheckpointManagerOptions& step_counter(Variable counter) { step_counter_ = std::move(counter); return *this; }
  CheckpointManagerOptions& checkpoint_interval(std::optional<int64_t> steps) { interval_ = steps; return *this; }
  // Called by restore_or_initialize() when the directory has no checkpoint (e.g. to load pretrained weights).
  CheckpointManagerOptions& init_fn(std::function<void()> fn) { init_fn_ = std::move(fn); return *this; }
  // Clock in seconds since the epoch (tests); default: the system clock.
  CheckpointManagerOptions& clock(std::function<double()> c) { clock_ = std::move(c); return *this; }
  // Called with a stage name between the steps of a save (crash tests): "bundle_written",
  // "state_temp_written", "state_renamed", "deleting", "deleted", "saved".
  CheckpointManagerOptions& hook(std::function<void(const char*)> h) { hook_ = std::move(h); return *this; }

  std::optional<int> max_to_keep_ = 5;
  std::optional<double> keep_every_n_hours_;
  std::string name_ = "ckpt";
  Variable step_counter_;
  std::optional<int64_t> interval_;
  std::function<void()> init_fn_;
  std::function<double()> clock_;
  std::function<void(const char*)> hook_;
};

class CheckpointManager {
 public:
  // Reads an existing state file in `directory` (a corrupt one is an error naming it) and
  // continues its list, as TF does. Creates the directory if needed.
  CheckpointManager(Checkpoint& checkpoint, std::string directory,
                    CheckpointManagerOptions options = CheckpointManagerOptions());
  CheckpointManager(Checkpoint& checkpoint, std::string directory, std::optional<int> max_to_keep,
                    std::optional<double> keep_checkpoint_every_n_hours = std::nullopt,
                    std::string checkpoint_name = "ckpt");

  // Increments save_counter; writes `<dir>/<name>-<checkpoint_number or save_counter>`; returns it.
  // With a checkpoint_interval: saves nothing and returns nullopt when step_counter equals the step of
  // the last save or (check_interval) is less than checkpoint_interval steps past it, as TF does.
  std::optional<std::string> save(std::optional<int64_t> checkpoint_number = std::nullopt,
                                  bool check_interval = true);
  // Newest checkpoint prefix or nullopt.
  std::optional<std::string> latest_checkpoint() const { return latest_; }
  // Prefixes still managed, oldest first.
  std::vector<std::string> checkpoints() const;
  // Restores the latest checkpoint (returned) or calls init_fn (if set) and returns nullopt.
  std::optional<std::string> restore_or_initialize();

  const std::string& directory() const { return directory_; }
  std::optional<int64_t> checkpoint_interval() const { return options_.interval_; }

 private:
  double now() const;
  void record_state();
  void sweep();
  void stage(const char* name) const;
  int64_t current_step() const;

  Checkpoint& checkpoint_;
  std::string directory_;
  CheckpointManagerOptions options_;
  std::string prefix_;
  std::vector<std::pair<std::string, double>> maybe_delete_;  // prefix, timestamp; oldest first
  std::optional<std::string> latest_;
  double last_preserved_ = 0;
  std::optional<int64_t> last_checkpoint_step_;  // with a checkpoint_interval
};

}  // namespace keel
