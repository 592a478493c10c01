// keras::EarlyStopping, as Keras 2.x: stop when `monitor` has not improved for `patience` epochs.
//
//   auto es = std::make_shared<keras::EarlyStopping>(
//       keras::EarlyStoppingOptions().monitor("val_loss").patience(2).restore_best_weights(true));
//
// mode "auto" maximizes monitors ending in "acc", "accuracy" or "auc" and minimizes the rest; an
// improvement is `current - min_delta` beyond the best (min_delta sign-adjusted as Keras). `wait`
// restarts only when the baseline (if any) is beaten too. Stopping sets TrainingControl::stop_training;
// restore_best_weights copies the weights (TrainingControl::weights) of the best epoch and assigns them
// back when it stops. verbose > 0 prints Keras's messages ("Restoring model weights from the end of
// the best epoch: 3.", "Epoch 5: early stopping"); a missing monitor prints Keras's warning.
// State (wait, stopped_epoch, best, best_epoch, best weights) is saved with checkpoints.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"
#include "keel/keras/callbacks/callback.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct EarlyStoppingOptions {
  KEEL_TRAIN_ARG(EarlyStoppingOptions, std::string, monitor, "val_loss")
  KEEL_TRAIN_ARG(EarlyStoppingOptions, double, min_delta, 0.0)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, int, patience, 0)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, int, verbose, 0)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, std::string, mode, "auto")  // "auto", "min", "max"
  KEEL_TRAIN_ARG(EarlyStoppingOptions, std::optional<double>, baseline, std::nullopt)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, bool, restore_best_weights, false)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, int, start_from_epoch, 0)
  KEEL_TRAIN_ARG(EarlyStoppingOptions, std::ostream*, out, nullptr)  // messages and warnings (default std::cout)
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = EarlyStoppingOptions());

  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;

  int wait() const { return wait_; }
  int stopped_epoch() const { return stopped_epoch_; }
  double best() const { return best_; }
  int best_epoch() const { return best_epoch_; }
  bool maximizing() const { return maximize_; }
  const std::vector<Tensor>& best_weights() const { return best_weights_; }

  bool has_state() const override { return true; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  bool is_improvement(double value, double reference) const;
  std::vector<Tensor> copy_weights() const;
  void set_weights(const std::vector<Tensor>& values) const;
  std::ostream& out() const;

  EarlyStoppingOptions options_;
  bool maximize_;
  double min_delta_;  // signed as Keras: positive when maximizing
  int wait_ = 0;
  int stopped_epoch_ = 0;
  double best_;
  int best_epoch_ = 0;
  bool has_best_weights_ = false;
  std::vector<Tensor> best_weights_;
  bool restored_ = false;
};

}  // namespace keel::keras
