// keras::ProgbarLogger: draws keras::Progbar from the training loop's callbacks, as Keras's
// ProgbarLogger(count_mode="steps") does.
//
//   auto logger = std::make_shared<keras::ProgbarLogger>(keras::ProgbarOptions().out(&os));
//
// verbose comes from the params (0: silent). Prints "Epoch 2/10" before each epoch when epochs > 1,
// updates the bar after each training batch (verbose 1) and finalizes it at the epoch's end with the
// epoch logs (validation values included). evaluate()/predict() outside fit draw their own bar.
#pragma once

#include <memory>

#include "keel/keras/callbacks/callback.h"
#include "keel/keras/progbar.h"

namespace keel::keras {

class ProgbarLogger : public Callback {
 public:
  // The options' verbose is replaced by the params' verbose.
  explicit ProgbarLogger(ProgbarOptions options = ProgbarOptions());

  void set_params(const CallbackParams& params) override;
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_test_begin(Logs& logs) override;
  void on_test_batch_end(int64_t batch, Logs& logs) override;
  void on_test_end(Logs& logs) override;
  void on_predict_begin(Logs& logs) override;
  void on_predict_batch_end(int64_t batch, Logs& logs) override;
  void on_predict_end(Logs& logs) override;

 private:
  void reset();
  void batch_update(int64_t batch, const Logs& logs);
  void finalize(const Logs& logs);

  ProgbarOptions options_;
  std::unique_ptr<Progbar> bar_;
  int64_t seen_ = 0;
  bool called_in_fit_ = false;
};

}  // namespace keel::keras
