// keras::LambdaCallback, as tf.keras 2.11: a callback made of functions, each hook optional.
//
//   std::vector<double> losses;
//   auto record = std::make_shared<keras::LambdaCallback>(
//       keras::LambdaCallbackOptions()
//           .on_epoch_end([&](int epoch, keras::Logs& logs) { losses.push_back(logs.at("loss")); })
//           .on_train_batch_end([&](int64_t batch, keras::Logs& logs) { if (batch % 100 == 0) log(logs); })
//           .on_train_end([&](keras::Logs&) { std::cout << "done\n"; }));
//   model.fit(x, y, keras::FitOptions().epochs(3).callbacks({record}));
//
// The hooks are Keras's six: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
// on_train_batch_begin(batch, logs), on_train_batch_end(batch, logs) (Keras 2.11's arguments
// on_batch_begin / on_batch_end, which set the same hooks here), on_train_begin(logs) and
// on_train_end(logs). Each gets the logs the loop hands every callback, so it may add to them as
// Keras's callbacks may. A hook left unset does nothing; what a hook throws propagates out of fit.
#pragma once

#include <cstdint>
#include <functional>

#include "keel/keras/callbacks/callback.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct LambdaCallbackOptions {
  using EpochHook = std::function<void(int epoch, Logs& logs)>;
  using BatchHook = std::function<void(int64_t batch, Logs& logs)>;
  using TrainHook = std::function<void(Logs& logs)>;

  KEEL_TRAIN_ARG(LambdaCallbackOptions, EpochHook, on_epoch_begin, nullptr)
  KEEL_TRAIN_ARG(LambdaCallbackOptions, EpochHook, on_epoch_end, nullptr)
  KEEL_TRAIN_ARG(LambdaCallbackOptions, BatchHook, on_train_batch_begin, nullptr)
  KEEL_TRAIN_ARG(LambdaCallbackOptions, BatchHook, on_train_batch_end, nullptr)
  KEEL_TRAIN_ARG(LambdaCallbackOptions, TrainHook, on_train_begin, nullptr)
  KEEL_TRAIN_ARG(LambdaCallbackOptions, TrainHook, on_train_end, nullptr)

  // Keras 2.11's names for the batch hooks.
  LambdaCallbackOptions& on_batch_begin(BatchHook hook) { return on_train_batch_begin(std::move(hook)); }
  LambdaCallbackOptions& on_batch_end(BatchHook hook) { return on_train_batch_end(std::move(hook)); }
};

class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackOptions options = LambdaCallbackOptions()) : options_(std::move(options)) {}

  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_begin(int64_t batch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, Logs& logs) override;
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;

  const LambdaCallbackOptions& options() const { return options_; }

 private:
  LambdaCallbackOptions options_;
};

}  // namespace keel::keras
