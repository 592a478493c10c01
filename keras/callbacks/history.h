// keras::History: the epochs seen and each log's value per epoch, as Keras's History callback.
//
//   auto history = model.fit(x, y, options);      // the loop returns the list's History
//   history->epoch();                             // {0, 1, 2}
//   history->at("val_loss");                      // one value per epoch
//
// Reset at on_train_begin, like Keras, except right after restore_state (a resumed fit keeps the
// epochs recorded before the checkpoint, whether restored before or during on_train_begin). Its state (epochs and values) is saved with checkpoints.
#pragma once

#include <string>
#include <vector>

#include "keel/keras/callbacks/callback.h"

namespace keel::keras {

class History : public Callback {
 public:
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  const std::vector<int>& epoch() const { return epochs_; }
  // Keys in first-seen order (loss, accuracy, val_loss, ...).
  std::vector<std::string> keys() const;
  bool contains(const std::string& key) const;
  const std::vector<double>& at(const std::string& key) const;  // throws naming the key

  bool has_state() const override { return true; }
  std::string save_state() const override;
  void restore_state(const std::string& bytes) override;

 private:
  std::vector<int> epochs_;
  std::vector<std::pair<std::string, std::vector<double>>> history_;
  bool restored_ = false;
};

}  // namespace keel::keras
