// keras::BackupAndRestore, as Keras 2.13's tf.keras.callbacks.BackupAndRestore: a fit() that was
// interrupted (killed, preempted) resumes from its last backup when it is run again, mid-epoch included,
// and the backup is removed when training completes.
//
//   auto backup = std::make_shared<keras::BackupAndRestore>("/tmp/backup");              // every epoch
//   auto often = std::make_shared<keras::BackupAndRestore>("/tmp/backup", 100);          // every 100 batches
//   auto keep = std::make_shared<keras::BackupAndRestore>("/tmp/backup", "epoch", /*delete_checkpoint=*/false);
//   model.fit(x, y, keras::FitOptions().epochs(10).callbacks({backup}));   // run it again after a crash
//
// A backup is a keel checkpoint (CheckpointManager, max_to_keep 1) in `<backup_dir>/chief`, as Keras
// names it, with the root children
//   "model"           the model: weights, dropout generators ("_random_generator"), the optimizer with
//                     its slots and iterations, the metrics' total/count ("keras_api/metrics/N")
//   "training_state"  fit's TrainingState: epoch, step within the epoch, shuffle seed (data order)
//   "callbacks"       every other callback with state, by class name ("EarlyStopping", "History",
//                     "ModelCheckpoint"; a second one of a class is "EarlyStopping_1")
// so that the resumed fit reproduces the uninterrupted one bit for bit (at a fixed thread count).
// Backups are taken after every other callback has run its hook for that batch or epoch (this
// callback runs_after_others()): with save_freq = N, after each batch whose number since epoch 0 is a
// multiple of N; with "epoch", after each epoch's validation and callbacks. A SIGKILL during a save
// leaves the previous backup loadable (CheckpointManager's order of writes).
//
// Restoring happens in on_train_begin. It first checks every model variable against the backup: a
// backup of another model is a keel::Error naming the variable path and both shapes, before anything
// is assigned. A backup from a fit over other data (sample count, steps per epoch) is an error too, and
// so is a corrupt backup (the error names the file). on_train_end removes `<backup_dir>/chief` (and
// backup_dir if that leaves it empty) unless delete_checkpoint is false.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "keel/checkpoint/manager.h"
#include "keel/keras/callbacks/callback.h"
#include "keel/keras/callbacks/save_freq.h"

namespace keel::keras {

class BackupAndRestore : public Callback {
 public:
  explicit BackupAndRestore(std::string backup_dir, SaveFreq save_freq = "epoch", bool delete_checkpoint = true);
  ~BackupAndRestore() override;

  void on_train_begin(Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  bool runs_after_others() const override { return true; }

  const std::string& backup_dir() const { return backup_dir_; }
  const SaveFreq& save_freq() const { return save_freq_; }
  bool delete_checkpoint() const { return delete_checkpoint_; }
  // Where the backups are: <backup_dir>/chief.
  std::string checkpoint_dir() const { return backup_dir_ + "/chief"; }
  // The backup the last on_train_begin restored, if any.
  const std::optional<std::string>& restored_from() const { return restored_from_; }
  // Called with the stage names of CheckpointManagerOptions::hook during each save (crash tests).
  void set_save_hook(std::function<void(const char*)> hook) { hook_ = std::move(hook); }

 private:
  std::shared_ptr<Trackable> callbacks_node() const;
  void restore(const std::string& prefix);
  void back_up();

  std::string backup_dir_;
  SaveFreq save_freq_;
  bool delete_checkpoint_;
  std::function<void(const char*)> hook_;
  std::optional<std::string> restored_from_;
  std::unique_ptr<Checkpoint> checkpoint_;        // built at on_train_begin, over the running fit
  std::unique_ptr<CheckpointManager> manager_;    // refers to checkpoint_
};

}  // namespace keel::keras
