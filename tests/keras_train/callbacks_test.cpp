// Callbacks: hook order, History, EarlyStopping (Keras's rules, restore_best_weights, state),
// CSVLogger (Keras's file format).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/callbacks/history.h"
#include "keel/keras/callbacks/progbar_logger.h"

using namespace keel;
using namespace keel::keras;

namespace {

struct Recorder : Callback {
  std::vector<std::string> calls;
  void on_train_begin(Logs&) override { calls.push_back("train_begin"); }
  void on_epoch_begin(int e, Logs&) override { calls.push_back("epoch_begin " + std::to_string(e)); }
  void on_train_batch_end(int64_t b, Logs& logs) override {
    calls.push_back("batch_end " + std::to_string(b) + " loss=" + std::to_string(logs.at("loss")));
  }
  void on_epoch_end(int e, Logs& logs) override {
    logs.set("extra", 1.0);  // callbacks may add to the logs the next ones see
    calls.push_back("epoch_end " + std::to_string(e));
  }
  void on_train_end(Logs&) override { calls.push_back("train_end"); }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Drives a list through epochs with the given monitor values.
void run_epochs(CallbackList& list, TrainingControl& control, const std::string& key, const std::vector<double>& values,
                const std::function<void(int)>& before_epoch_end = nullptr) {
  list.set_control(&control);
  list.set_params({static_cast<int>(values.size()), 1, 0});
  list.on_train_begin();
  for (size_t e = 0; e < values.size() && !control.stop_training; ++e) {
    list.on_epoch_begin(static_cast<int>(e));
    if (before_epoch_end) before_epoch_end(static_cast<int>(e));
    list.on_epoch_end(static_cast<int>(e), {{key, values[e]}});
  }
  list.on_train_end();
}

}  // namespace

TEST(Callbacks, LogsKeepInsertionOrder) {
  Logs logs{{"loss", 0.5}, {"accuracy", 0.8}};
  logs.set("val_loss", 0.6);
  logs.set("loss", 0.4);
  EXPECT_EQ(logs.keys(), (std::vector<std::string>{"loss", "accuracy", "val_loss"}));
  EXPECT_EQ(logs.at("loss"), 0.4);
  EXPECT_FALSE(logs.get("val_accuracy"));
  try {
    logs.at("lr");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "logs have no 'lr' (present: loss, accuracy, val_loss)");
  }
}

TEST(Callbacks, ListOrderDefaultsAndSharedLogs) {
  auto rec = std::make_shared<Recorder>();
  CallbackList list({rec});
  list.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/true);
  ASSERT_EQ(list.callbacks().size(), 3u);
  EXPECT_TRUE(std::dynamic_pointer_cast<ProgbarLogger>(list.callbacks()[1]));
  EXPECT_TRUE(std::dynamic_pointer_cast<History>(list.callbacks()[2]));
  list.add_default_callbacks(true, true);  // idempotent
  EXPECT_EQ(list.callbacks().size(), 3u);
  list.set_params({2, 1, 0});
  list.on_train_begin();
  list.on_epoch_begin(0);
  list.on_train_batch_end(0, {{"loss", 0.25}});
  list.on_epoch_end(0, {{"loss", 0.25}});
  list.on_train_end();
  EXPECT_EQ(rec->calls, (std::vector<std::string>{"train_begin", "epoch_begin 0", "batch_end 0 loss=0.250000",
                                                  "epoch_end 0", "train_end"}));
  EXPECT_EQ(list.history()->at("extra"), std::vector<double>{1.0});
}

TEST(Callbacks, HistoryRecordsAndRoundTripsItsState) {
  History h;
  Logs l0{{"loss", 0.5}, {"accuracy", 0.75}}, l1{{"loss", 0.25}, {"accuracy", 0.875}, {"val_loss", 0.3}};
  Logs none;
  h.on_train_begin(none);
  h.on_epoch_end(0, l0);
  h.on_epoch_end(1, l1);
  EXPECT_EQ(h.epoch(), (std::vector<int>{0, 1}));
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"loss", "accuracy", "val_loss"}));
  EXPECT_EQ(h.at("loss"), (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(h.at("val_loss"), (std::vector<double>{0.3}));
  EXPECT_THROW(h.at("lr"), Error);
  ASSERT_TRUE(h.has_state());
  History back;
  back.restore_state(h.save_state());
  EXPECT_EQ(back.epoch(), h.epoch());
  EXPECT_EQ(back.keys(), h.keys());
  EXPECT_EQ(back.at("accuracy"), h.at("accuracy"));
  // A resumed fit keeps what was restored; a fresh fit starts over, like Keras.
  back.on_train_begin(none);
  EXPECT_EQ(back.epoch().size(), 2u);
  back.on_train_begin(none);
  EXPECT_TRUE(back.epoch().empty());
}

TEST(Callbacks, StateRejectsGarbageWithoutCrashing) {
  History h;
  EXPECT_THROW(h.restore_state(""), Error);
  EXPECT_THROW(h.restore_state("22 serialization::archive"), Error);
  EarlyStopping es;
  try {
    es.restore_state(History().save_state());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "EarlyStopping state: expected a 'EarlyStopping' record, found 'keel:History'");
  }
  // A hostile length: the load stops at the end of the input instead of allocating.
  std::string s = History().save_state();
  History source;
  Logs l{{"loss", 1.0}};
  source.on_epoch_end(0, l);
  std::string good = source.save_state();
  std::string hostile = good;
  const auto pos = hostile.rfind(" 1 ");
  ASSERT_NE(pos, std::string::npos);
  hostile.replace(pos, 3, " 1152921504606846975 ");
  EXPECT_THROW(History().restore_state(hostile), Error);
  // Truncation anywhere (short of dropping trailing blanks) is an error, never a crash or a silent
  // partial load.
  for (size_t n = 0; n < good.size(); ++n) {
    if (good.find_first_not_of(" \n", n) == std::string::npos) continue;
    EXPECT_THROW(History().restore_state(good.substr(0, n)), Error) << n;
  }
}

TEST(Callbacks, EarlyStoppingPatienceAndMessages) {
  std::ostringstream out;
  auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_loss").patience(1).verbose(1).out(&out));
  CallbackList list({es});
  TrainingControl control;
  run_epochs(list, control, "val_loss", {1.0, 0.9, 0.95, 0.97, 0.5});
  EXPECT_TRUE(control.stop_training);
  EXPECT_EQ(es->stopped_epoch(), 2);
  EXPECT_EQ(es->best(), 0.9);
  EXPECT_EQ(es->best_epoch(), 1);
  EXPECT_FALSE(es->maximizing());
  EXPECT_EQ(out.str(), "Epoch 3: early stopping\n");
}

TEST(Callbacks, EarlyStoppingModesDeltaBaseline) {
  EXPECT_TRUE(EarlyStopping(EarlyStoppingOptions().monitor("val_accuracy")).maximizing());
  EXPECT_TRUE(EarlyStopping(EarlyStoppingOptions().monitor("acc")).maximizing());
  EXPECT_FALSE(EarlyStopping(EarlyStoppingOptions().monitor("val_accuracy").mode("min")).maximizing());
  EXPECT_TRUE(EarlyStopping(EarlyStoppingOptions().monitor("loss").mode("max")).maximizing());
  EXPECT_THROW(EarlyStopping(EarlyStoppingOptions().mode("best")), Error);

  {  // min_delta: 1.0 -> 0.96 is not an improvement of at least 0.05
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").min_delta(0.05).patience(1));
    CallbackList list({es});
    TrainingControl control;
    run_epochs(list, control, "loss", {1.0, 0.96, 0.5});
    EXPECT_TRUE(control.stop_training);
    EXPECT_EQ(es->stopped_epoch(), 1);
  }
  {  // accuracy is maximized
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_accuracy").patience(2));
    CallbackList list({es});
    TrainingControl control;
    run_epochs(list, control, "val_accuracy", {0.5, 0.6, 0.55, 0.58, 0.9});
    EXPECT_TRUE(control.stop_training);
    EXPECT_EQ(es->stopped_epoch(), 3);
    EXPECT_EQ(es->best(), 0.6);
  }
  {  // improving but never beating the baseline: wait keeps growing, then the first non-improvement stops
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").patience(2).baseline(0.1));
    CallbackList list({es});
    TrainingControl control;
    run_epochs(list, control, "loss", {0.9, 0.8, 0.7, 0.75, 0.2});
    EXPECT_TRUE(control.stop_training);
    EXPECT_EQ(es->stopped_epoch(), 3);
    EXPECT_EQ(es->wait(), 4);
  }
  {  // missing monitor: Keras's warning, no stop
    std::ostringstream out;
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_loss").out(&out));
    CallbackList list({es});
    TrainingControl control;
    run_epochs(list, control, "loss", {1.0, 2.0});
    EXPECT_FALSE(control.stop_training);
    EXPECT_EQ(out.str(),
              "WARNING: Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: "
              "loss\nWARNING: Early stopping conditioned on metric `val_loss` which is not available. Available "
              "metrics are: loss\n");
  }
  {  // start_from_epoch: the first epochs are ignored
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").start_from_epoch(2));
    CallbackList list({es});
    TrainingControl control;
    run_epochs(list, control, "loss", {0.1, 0.2, 0.9, 0.95});
    EXPECT_EQ(es->stopped_epoch(), 3);
    EXPECT_EQ(es->best(), 0.9);
  }
}

TEST(Callbacks, EarlyStoppingRestoresBestWeightsAndSavesState) {
  Variable w("w", Tensor::from_vector<float>({0, 0}));
  TrainingControl control;
  control.weights = [&] { return std::vector<Variable>{w}; };
  std::ostringstream out;
  auto es = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions().monitor("val_loss").patience(2).restore_best_weights(true).verbose(1).out(&out));
  CallbackList list({es});
  // Weights at the end of epoch e are {e, -e}; the best epoch is 1.
  run_epochs(list, control, "val_loss", {0.8, 0.5, 0.6, 0.7, 0.1},
             [&](int e) { w.assign(Tensor::from_vector<float>({float(e), float(-e)})); });
  EXPECT_EQ(es->stopped_epoch(), 3);
  EXPECT_EQ(w.value().to_vector<float>(), (std::vector<float>{1, -1}));
  EXPECT_EQ(out.str(), "Restoring model weights from the end of the best epoch: 2.\nEpoch 4: early stopping\n");

  EarlyStopping back(EarlyStoppingOptions().monitor("val_loss").patience(2).restore_best_weights(true));
  back.restore_state(es->save_state());
  EXPECT_EQ(back.wait(), es->wait());
  EXPECT_EQ(back.best(), 0.5);
  EXPECT_EQ(back.best_epoch(), 1);
  EXPECT_EQ(back.stopped_epoch(), 3);
  ASSERT_EQ(back.best_weights().size(), 1u);
  EXPECT_TRUE(back.best_weights()[0].equal(es->best_weights()[0]));
  // Infinity (best before any epoch) survives the round trip.
  EarlyStopping fresh;
  EarlyStopping fresh_back;
  fresh_back.restore_state(fresh.save_state());
  EXPECT_TRUE(std::isinf(fresh_back.best()));

  // restore_best_weights without access to the weights is an error that says so.
  auto lost = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").restore_best_weights(true));
  CallbackList lonely({lost});
  TrainingControl no_weights;
  EXPECT_THROW(run_epochs(lonely, no_weights, "loss", {1.0}), Error);
}

TEST(Callbacks, CSVLoggerWritesKerasFormat) {
  const std::string path = std::string(KEEL_TEST_BINARY_DIR) + "/csv_logger_test.csv";
  std::remove(path.c_str());
  auto csv = std::make_shared<CSVLogger>(path);
  CallbackList list({csv});
  TrainingControl control;
  list.set_control(&control);
  list.on_train_begin();
  list.on_epoch_end(0, {{"loss", 0.4952312111854553}, {"accuracy", 0.85}, {"val_loss", 1e-05}});
  list.on_epoch_end(1, {{"loss", 2.0}, {"accuracy", 0.875}, {"val_loss", 123456.5}});
  list.on_train_end();
  EXPECT_EQ(read_file(path),
            "epoch,accuracy,loss,val_loss\r\n0,0.85,0.4952312111854553,1e-05\r\n1,0.875,2.0,123456.5\r\n");

  // append: no second header; a custom separator; NA for keys missing once training was stopped.
  auto more = std::make_shared<CSVLogger>(path, ";", /*append=*/true);
  CallbackList list2({more});
  list2.set_control(&control);
  list2.on_train_begin();
  list2.on_epoch_end(2, {{"loss", 0.1}, {"accuracy", 0.9}});
  control.stop_training = true;
  list2.on_epoch_end(3, {{"loss", 0.0001}});
  list2.on_train_end();
  EXPECT_EQ(read_file(path),
            "epoch,accuracy,loss,val_loss\r\n0,0.85,0.4952312111854553,1e-05\r\n1,0.875,2.0,123456.5\r\n"
            "2;0.9;0.1\r\n3;NA;0.0001\r\n");
  std::remove(path.c_str());
}

TEST(Callbacks, PythonFloatRepr) {
  EXPECT_EQ(CSVLogger::format_float(0.5), "0.5");
  EXPECT_EQ(CSVLogger::format_float(2.0), "2.0");
  EXPECT_EQ(CSVLogger::format_float(-3.0), "-3.0");
  EXPECT_EQ(CSVLogger::format_float(0.0001), "0.0001");
  EXPECT_EQ(CSVLogger::format_float(0.00001), "1e-05");
  EXPECT_EQ(CSVLogger::format_float(1.5e-7), "1.5e-07");
  EXPECT_EQ(CSVLogger::format_float(1e16), "1e+16");
  EXPECT_EQ(CSVLogger::format_float(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(CSVLogger::format_float(static_cast<double>(0.85f)), "0.8500000238418579");
  EXPECT_EQ(CSVLogger::format_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(CSVLogger::format_float(1.0 / 0.0), "inf");
  EXPECT_EQ(CSVLogger::format_float(0.0), "0.0");
}
