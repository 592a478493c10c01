// TerminateOnNaN and LambdaCallback: Keras 2.11's behaviour on scripted logs, and TerminateOnNaN
// stopping fit on a small Fashion-MNIST subset with a NaN in the data.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "keel/keras/callbacks/history.h"
#include "keel/keras/callbacks/lambda_callback.h"
#include "keel/keras/callbacks/terminate_on_nan.h"
#include "keel/keras/initializers.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/losses.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/sequential.h"
#include "tiny_fit_model.h"

using namespace keel;
using namespace keel::keras;

namespace {

using callback_test::data;
using callback_test::tiny_model;

}  // namespace

// ---- TerminateOnNaN

TEST(TerminateOnNaN, StopsOnANaNOrInfiniteLoss) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {std::nan(""), inf, -inf}) {
    std::ostringstream out;
    CallbackList list({std::make_shared<TerminateOnNaN>(&out)});
    TrainingControl control;
    list.set_control(&control);
    list.on_train_begin();
    list.on_epoch_begin(0);
    list.on_train_batch_end(0, {{"loss", 1e30}, {"accuracy", std::nan("")}});  // only "loss" counts
    list.on_train_batch_end(1, {{"accuracy", 0.5}});                             // no loss: ignored
    EXPECT_FALSE(control.stop_training);
    EXPECT_EQ(out.str(), "");
    list.on_train_batch_end(2, {{"loss", bad}});
    EXPECT_TRUE(control.stop_training);
    EXPECT_EQ(out.str(), "Batch 2: Invalid loss, terminating training\n");
  }
  // Without a training loop (no TrainingControl) it only prints.
  std::ostringstream out;
  TerminateOnNaN alone(&out);
  Logs logs{{"loss", std::nan("")}};
  alone.on_train_batch_end(7, logs);
  EXPECT_EQ(out.str(), "Batch 7: Invalid loss, terminating training\n");
}

TEST(TerminateOnNaN, StopsFitOnANaNInTheData) {
  // 256 images in 4 unshuffled batches of 64; image 150 (batch 2 of epoch 0) gets a NaN pixel.
  Tensor x = data().x_train.clone();
  x.data<float>()[150 * 784 + 300] = std::nanf("");
  auto model = tiny_model(std::make_shared<SGD>());
  std::ostringstream out;
  std::vector<int64_t> batches;
  auto count = std::make_shared<LambdaCallback>(
      LambdaCallbackOptions().on_train_batch_end([&](int64_t batch, Logs&) { batches.push_back(batch); }));
  const auto history = model->fit(x, data().y_train,
                                  FitOptions().epochs(5).batch_size(64).shuffle(false).verbose(0).callbacks(
                                      {std::make_shared<TerminateOnNaN>(&out), count}));
  EXPECT_EQ(out.str(), "Batch 2: Invalid loss, terminating training\n");
  EXPECT_EQ(batches, (std::vector<int64_t>{0, 1, 2}));  // the loop stopped right after the NaN batch
  EXPECT_EQ(model->optimizer()->iterations_value(), 3);
  EXPECT_EQ(history->epoch(), (std::vector<int>{0}));  // the epoch that ran is recorded, as Keras
  EXPECT_TRUE(std::isnan(history->at("loss").front()));

  // The same data without the NaN trains all 5 epochs.
  auto clean = tiny_model(std::make_shared<SGD>());
  std::ostringstream quiet;
  const auto h2 = clean->fit(data().x_train, data().y_train,
                             FitOptions().epochs(5).batch_size(64).shuffle(false).verbose(0).callbacks(
                                 {std::make_shared<TerminateOnNaN>(&quiet)}));
  EXPECT_EQ(h2->epoch().size(), 5u);
  EXPECT_EQ(quiet.str(), "");
}

TEST(TerminateOnNaN, StopsADivergingFit) {
  // SGD at 1e30 overflows the weights within the first batches: the loss becomes NaN or inf.
  auto model = tiny_model(std::make_shared<SGD>(SGDOptions().learning_rate(1e30)));
  std::ostringstream out;
  std::vector<double> batch_losses;
  auto losses = std::make_shared<LambdaCallback>(LambdaCallbackOptions().on_train_batch_end(
      [&](int64_t, Logs& logs) { batch_losses.push_back(logs.at("loss")); }));
  const auto history = model->fit(data().x_train, data().y_train,
                                  FitOptions().epochs(5).batch_size(32).seed(3).verbose(0).callbacks(
                                      {std::make_shared<TerminateOnNaN>(&out), losses}));
  ASSERT_FALSE(batch_losses.empty());
  EXPECT_FALSE(std::isfinite(batch_losses.back()));
  for (size_t i = 0; i + 1 < batch_losses.size(); ++i) EXPECT_TRUE(std::isfinite(batch_losses[i])) << i;
  const int64_t batch = static_cast<int64_t>(batch_losses.size() - 1) % 8;  // 8 batches per epoch
  EXPECT_EQ(out.str(), "Batch " + std::to_string(batch) + ": Invalid loss, terminating training\n");
  EXPECT_EQ(history->epoch().size(), batch_losses.size() / 8 + (batch_losses.size() % 8 != 0));
  EXPECT_LT(history->epoch().size(), 5u);
}

// ---- LambdaCallback

TEST(LambdaCallback, CallsEachGivenHookInKerasOrder) {
  std::vector<std::string> calls;
  auto lambda = std::make_shared<LambdaCallback>(
      LambdaCallbackOptions()
          .on_train_begin([&](Logs&) { calls.push_back("train_begin"); })
          .on_epoch_begin([&](int e, Logs&) { calls.push_back("epoch_begin " + std::to_string(e)); })
          .on_batch_begin([&](int64_t b, Logs&) { calls.push_back("batch_begin " + std::to_string(b)); })
          .on_batch_end([&](int64_t b, Logs& logs) {
            calls.push_back("batch_end " + std::to_string(b) + " loss=" + std::to_string(logs.at("loss")));
          })
          .on_epoch_end([&](int e, Logs& logs) {
            logs.set("twice_loss", 2 * logs.at("loss"));  // the callbacks after it see what it adds
            calls.push_back("epoch_end " + std::to_string(e));
          })
          .on_train_end([&](Logs&) { calls.push_back("train_end"); }));
  CallbackList list({lambda});
  list.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/false);
  TrainingControl control;
  list.set_control(&control);
  list.on_train_begin();
  for (int e = 0; e < 2; ++e) {
    list.on_epoch_begin(e);
    list.on_train_batch_begin(0);
    list.on_train_batch_end(0, {{"loss", 0.5 + e}});
    list.on_test_begin();  // hooks it was not given do nothing
    list.on_test_end();
    list.on_epoch_end(e, {{"loss", 0.25 + e}});
  }
  list.on_train_end();
  EXPECT_EQ(calls, (std::vector<std::string>{"train_begin", "epoch_begin 0", "batch_begin 0",
                                             "batch_end 0 loss=0.500000", "epoch_end 0", "epoch_begin 1",
                                             "batch_begin 0", "batch_end 0 loss=1.500000", "epoch_end 1",
                                             "train_end"}));
  EXPECT_EQ(list.history()->at("twice_loss"), (std::vector<double>{0.5, 2.5}));

  // No hooks at all: a callback that does nothing.
  CallbackList empty({std::make_shared<LambdaCallback>()});
  empty.on_train_begin();
  empty.on_epoch_begin(0);
  empty.on_train_batch_begin(0);
  empty.on_train_batch_end(0);
  empty.on_epoch_end(0);
  empty.on_train_end();
}

TEST(LambdaCallback, RunsInFitAndItsErrorsPropagate) {
  auto model = tiny_model(std::make_shared<Adam>());
  std::vector<double> epoch_losses;
  int64_t batches = 0;
  auto lambda = std::make_shared<LambdaCallback>(
      LambdaCallbackOptions()
          .on_train_batch_end([&](int64_t, Logs&) { ++batches; })
          .on_epoch_end([&](int, Logs& logs) { epoch_losses.push_back(logs.at("loss")); }));
  const auto history = model->fit(data().x_train, data().y_train,
                                  FitOptions().epochs(2).batch_size(64).seed(1).verbose(0).callbacks({lambda}));
  EXPECT_EQ(batches, 8);
  EXPECT_EQ(epoch_losses, history->at("loss"));

  auto failing = std::make_shared<LambdaCallback>(LambdaCallbackOptions().on_epoch_begin([](int epoch, Logs&) {
    if (epoch == 1) throw std::runtime_error("stop here");
  }));
  EXPECT_THROW(model->fit(data().x_train, data().y_train,
                          FitOptions().epochs(3).batch_size(64).verbose(0).callbacks({failing})),
               std::runtime_error);
}
