// keras::ModelCheckpoint, as Keras 2.11: save the model or its weights during fit.
//
//   // The tutorial flow: weights every epoch, then restore the newest.
//   auto cp = std::make_shared<keras::ModelCheckpoint>(
//       "training/cp-{epoch:04d}.ckpt", keras::ModelCheckpointOptions().save_weights_only(true).verbose(1));
//   model.fit(x, y, keras::FitOptions().epochs(5).callback(cp));
//   keras::load_weights(fresh, *keel::latest_checkpoint("training"));   // training/cp-0005.ckpt
//
//   // Best model only, by validation accuracy, keeping the newest 3 files.
//   keras::ModelCheckpoint best("best-{epoch:02d}-{val_accuracy:.4f}.h5",
//       keras::ModelCheckpointOptions().monitor("val_accuracy").save_best_only(true).max_to_keep(3));
//
// filepath is formatted like Python's str.format (keras/callbacks/format_path.h) with `epoch`
// (1-based), `batch` (1-based, batch-based save_freq only, unless the logs have one) and every key of
// the logs; a field that is none of these is a keel::Error naming it and listing the available ones.
// Saving: save_weights_only -> keras::save_weights (".h5": HDF5, else a tensor bundle at the prefix
// plus the `checkpoint` state file, so latest_checkpoint(dir) finds the newest), otherwise
// keras::save_model (".h5" file or SavedModel-style directory). Parent directories are created.
//
// When: save_freq "epoch" saves at the end of every `period`-th epoch; save_freq N saves every N
// batches, counted across epochs as Keras does (then `period` is ignored). save_best_only saves only
// when `monitor` (from the epoch's or the batch's logs) improves on the best so far (mode "min",
// "max", or "auto": max when the name contains "acc" or starts with "fmeasure", as Keras); a monitor
// missing from the logs prints Keras's warning at each save it skips, as tf.keras 2.11-2.15's
// logging.warning ("Can save best model only with val_loss available, skipping.").
//
// verbose 1 prints Keras's messages exactly ("\nEpoch 1: saving model to training/cp-0001.ckpt\n",
// "\nEpoch 2: val_loss improved from 0.51234 to 0.43210, saving model to ...\n",
// "\nEpoch 3: val_loss did not improve from 0.43210\n") to `out` (default std::cout).
//
// keel extra: max_to_keep N > 0 deletes, after each successful save, the oldest files this callback
// wrote beyond the newest N (a bundle prefix: its .index and .data-* files; a directory: all of it).
// Nothing is deleted before the new save has completed, and a path written again counts as new.
//
// State (saved with checkpoints, restored by BackupAndRestore): best, epochs and batches since the
// last save, the last batch seen, the current epoch and the list of files kept for max_to_keep, so a
// resumed run neither overwrites a better model nor forgets which files to rotate. fit() does not
// reset any of it (Keras keeps `best` across fit calls on the same callback). The state record
// (keras/callbacks/state_io.h, kind "ModelCheckpoint", version 1) holds, in order: best (double
// bits), epochs since the last save (int), batches since the last save, last batch seen (int64),
// current epoch (int), then the count and the kept paths (strings).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "keel/keras/callbacks/callback.h"
#include "keel/keras/callbacks/save_freq.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct ModelCheckpointOptions {
  KEEL_TRAIN_ARG(ModelCheckpointOptions, std::string, monitor, "val_loss")
  KEEL_TRAIN_ARG(ModelCheckpointOptions, int, verbose, 0)
  KEEL_TRAIN_ARG(ModelCheckpointOptions, bool, save_best_only, false)
  KEEL_TRAIN_ARG(ModelCheckpointOptions, bool, save_weights_only, false)
  KEEL_TRAIN_ARG(ModelCheckpointOptions, std::string, mode, "auto")  // "auto", "min", "max"
  KEEL_TRAIN_ARG(ModelCheckpointOptions, SaveFreq, save_freq, "epoch")  // "epoch" or a number of batches
  KEEL_TRAIN_ARG(ModelCheckpointOptions, int, period, 1)                // Keras's deprecated `period`: every N epochs
  KEEL_TRAIN_ARG(ModelCheckpointOptions, std::optional<double>, initial_value_threshold, std::nullopt)
  KEEL_TRAIN_ARG(ModelCheckpointOptions, int, max_to_keep, 0)  // 0: keep all (Keras)
  KEEL_TRAIN_ARG(ModelCheckpointOptions, std::ostream*, out, nullptr)  // messages and warnings (default std::cout)
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = ModelCheckpointOptions());

  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;

  const std::string& filepath() const { return filepath_; }
  const ModelCheckpointOptions& options() const { return options_; }
  double best() const { return best_; }
  bool maximizing() const { return maximize_; }
  int epochs_since_last_save() const { return epochs_since_last_save_; }
  int64_t batches_since_last_save() const { return batches_since_last_save_; }
  // Paths this callback saved that max_to_keep still keeps, oldest first (not tracked, so empty,
  // when max_to_keep is 0).
  const std::vector<std::string>& kept() const { return kept_; }
  // filepath formatted for this epoch (0-based, as the hooks), batch (0-based, or -1) and logs.
  std::string file_path(int epoch, int64_t batch, const Logs& logs) const;

  bool has_state() const override { return true; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  bool should_save_on_batch(int64_t batch);
  void maybe_save(int epoch, int64_t batch, const Logs& logs);
  void write(const std::string& path);
  void rotate(const std::string& path);
  std::ostream& out() const;

  std::string filepath_;
  ModelCheckpointOptions options_;
  bool maximize_;
  double best_;
  int epochs_since_last_save_ = 0;
  int64_t batches_since_last_save_ = 0;
  int64_t last_batch_seen_ = 0;
  int current_epoch_ = 0;
  std::vector<std::string> kept_;
};

}  // namespace keel::keras
