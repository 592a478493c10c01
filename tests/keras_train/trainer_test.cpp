// The fit/evaluate/predict loop over a tiny model y = x * w + b (elementwise ops only), against a
// hand-written loop, with Keras's batching, split, shuffling, callback order and output.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "keel/autodiff/backward.h"
#include "keel/graph/threads.h"
#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/trainer.h"
#include "keel/ops/elementwise.h"

using namespace keel;
using namespace keel::keras;

namespace {

struct Linear {
  Variable w{"w", Tensor::from_vector<float>({0.5f}, {1, 1})};
  Variable b{"b", Tensor::from_vector<float>({0.0f}, {1})};
  std::vector<Tensor> seen;  // inputs of the forward passes
  TrainableModel trainable() {
    return {[this](const Tensor& x, bool) {
              seen.push_back(x);
              return ops::add(ops::mul(x, w.value()), b.value());
            },
            [this] { return std::vector<Variable>{w, b}; }, nullptr, nullptr};
  }
};

// x = 0..n-1 scaled, y = 2x + 1.
std::pair<Tensor, Tensor> line_data(int64_t n) {
  std::vector<float> xs, ys;
  for (int64_t i = 0; i < n; ++i) {
    xs.push_back(static_cast<float>(i) / static_cast<float>(n));
    ys.push_back(2 * xs.back() + 1);
  }
  return {Tensor::from_vector<float>(xs, {n, 1}), Tensor::from_vector<float>(ys, {n, 1})};
}

struct Recorder : Callback {
  std::vector<std::string> calls;
  void on_train_begin(Logs&) override { calls.push_back("train_begin"); }
  void on_epoch_begin(int e, Logs&) override { calls.push_back("epoch_begin " + std::to_string(e)); }
  void on_train_batch_begin(int64_t b, Logs&) override { calls.push_back("batch_begin " + std::to_string(b)); }
  void on_train_batch_end(int64_t b, Logs&) override { calls.push_back("batch_end " + std::to_string(b)); }
  void on_test_begin(Logs&) override { calls.push_back("test_begin"); }
  void on_test_batch_end(int64_t b, Logs&) override { calls.push_back("test_batch_end " + std::to_string(b)); }
  void on_test_end(Logs&) override { calls.push_back("test_end"); }
  void on_epoch_end(int e, Logs& logs) override {
    std::string keys;
    for (const auto& k : logs.keys()) keys += " " + k;
    calls.push_back("epoch_end " + std::to_string(e) + keys);
  }
  void on_train_end(Logs&) override { calls.push_back("train_end"); }
};

}  // namespace

TEST(Trainer, FitMatchesAHandWrittenLoop) {
  auto [x, y] = line_data(10);
  Linear model;
  Trainer trainer(model.trainable());
  trainer.compile(CompileOptions().optimizer(std::make_shared<SGD>(SGDOptions().learning_rate(0.1))).loss("mse"));
  auto history = trainer.fit(x, y, FitOptions().batch_size(4).epochs(3).shuffle(false).verbose(0));

  // The same steps by hand: batches [0,4), [4,8), [8,10) in order, three epochs.
  Linear ref;
  SGD sgd(SGDOptions().learning_rate(0.1));
  MeanSquaredError mse;
  std::vector<double> epoch_losses;
  for (int e = 0; e < 3; ++e) {
    double weighted = 0;
    for (int64_t begin = 0; begin < 10; begin += 4) {
      const int64_t end = std::min<int64_t>(10, begin + 4);
      Tensor xb = keras::detail::take_rows(x, begin, end), yb = keras::detail::take_rows(y, begin, end);
      Tensor loss = mse(yb, ops::add(ops::mul(xb, ref.w.value()), ref.b.value()));
      auto grads = keel::grad(loss, {ref.w.value(), ref.b.value()});
      sgd.apply_gradients(grads, {ref.w, ref.b});
      weighted += static_cast<double>(static_cast<float>(loss.item<double>() * static_cast<double>(end - begin)));
    }
    epoch_losses.push_back(weighted / 10);
  }
  EXPECT_TRUE(model.w.value().equal(ref.w.value()));
  EXPECT_TRUE(model.b.value().equal(ref.b.value()));
  EXPECT_EQ(trainer.optimizer()->iterations_value(), 9);
  ASSERT_EQ(history->epoch(), (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(history->keys(), std::vector<std::string>{"loss"});
  for (int e = 0; e < 3; ++e) EXPECT_NEAR(history->at("loss")[static_cast<size_t>(e)], epoch_losses[static_cast<size_t>(e)], 1e-6);
  EXPECT_LT(history->at("loss")[2], history->at("loss")[0]);
}

TEST(Trainer, ValidationSplitTakesTheLastSamplesAndCallbacksRunInKerasOrder) {
  auto [x, y] = line_data(10);
  Linear model;
  Trainer trainer(model.trainable());
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse").metrics({"mae"}));
  auto rec = std::make_shared<Recorder>();
  auto history = trainer.fit(x, y, FitOptions().batch_size(4).epochs(2).validation_split(0.2).verbose(0).callback(rec).seed(5));
  // Training sees the first 8 samples (shuffled), validation the last 2 in order.
  ASSERT_EQ(model.seen.size(), 2u * (2 + 1));
  std::vector<float> train_x;
  for (size_t i : {0u, 1u}) {
    const auto v = model.seen[i].to_vector<float>();
    train_x.insert(train_x.end(), v.begin(), v.end());
  }
  std::sort(train_x.begin(), train_x.end());
  EXPECT_EQ(train_x, keras::detail::take_rows(x, 0, 8).to_vector<float>());
  EXPECT_EQ(model.seen[2].to_vector<float>(), keras::detail::take_rows(x, 8, 10).to_vector<float>());
  EXPECT_EQ(rec->calls,
            (std::vector<std::string>{"train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1",
                                      "batch_end 1", "test_begin", "test_batch_end 0", "test_end",
                                      "epoch_end 0 loss mae val_loss val_mae", "epoch_begin 1", "batch_begin 0",
                                      "batch_end 0", "batch_begin 1", "batch_end 1", "test_begin", "test_batch_end 0",
                                      "test_end", "epoch_end 1 loss mae val_loss val_mae", "train_end"}));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "mae", "val_loss", "val_mae"}));
  // val_loss equals evaluate() on the last two samples with the final weights of epoch 1.
  Logs eval = trainer.evaluate(keras::detail::take_rows(x, 8, 10), keras::detail::take_rows(y, 8, 10), EvaluateOptions().verbose(0));
  EXPECT_EQ(eval.at("loss"), history->at("val_loss")[1]);
  EXPECT_EQ(eval.at("mae"), history->at("val_mae")[1]);
}

// Keras's validation_freq (validate when the 1-based epoch is a multiple of it), validation_batch_size
// (default batch_size) and validation_steps.
TEST(Trainer, ValidationFreqBatchSizeAndSteps) {
  auto [x, y] = line_data(10);
  Linear model;
  Trainer trainer(model.trainable());
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
  auto rec = std::make_shared<Recorder>();
  auto history = trainer.fit(x, y, FitOptions().batch_size(8).epochs(4).validation_split(0.2).validation_freq(2)
                                       .validation_batch_size(1).verbose(0).callback(rec).seed(5));
  std::vector<std::string> epoch_ends, test_batches;
  for (const auto& c : rec->calls) {
    if (c.rfind("epoch_end", 0) == 0) epoch_ends.push_back(c);
    if (c.rfind("test_batch_end", 0) == 0) test_batches.push_back(c);
  }
  EXPECT_EQ(epoch_ends, (std::vector<std::string>{"epoch_end 0 loss", "epoch_end 1 loss val_loss", "epoch_end 2 loss",
                                                  "epoch_end 3 loss val_loss"}));
  EXPECT_EQ(test_batches, (std::vector<std::string>{"test_batch_end 0", "test_batch_end 1", "test_batch_end 0",
                                                    "test_batch_end 1"}));
  EXPECT_EQ(history->at("loss").size(), 4u);
  EXPECT_EQ(history->at("val_loss").size(), 2u);
  // CSVLogger gives val_loss its column although the first epoch has none (tf.keras 2.x left it out of
  // the file): NA on the epochs without validation.
  const std::string csv_path = std::string(KEEL_TEST_BINARY_DIR) + "/validation_freq_test.csv";
  trainer.fit(x, y, FitOptions().batch_size(8).epochs(3).validation_split(0.2).validation_freq(2).verbose(0)
                        .callback(std::make_shared<CSVLogger>(csv_path)).seed(5));
  std::ifstream csv(csv_path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  std::remove(csv_path.c_str());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,loss,val_loss\r");
  EXPECT_EQ(lines[1].rfind("0,", 0), 0u);
  EXPECT_EQ(lines[1].substr(lines[1].size() - 4), ",NA\r") << lines[1];
  EXPECT_EQ(lines[2].rfind("1,", 0), 0u);
  EXPECT_EQ(lines[2].find("NA"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].substr(lines[3].size() - 4), ",NA\r") << lines[3];

  rec->calls.clear();
  trainer.fit(x, y, FitOptions().batch_size(8).epochs(1).validation_split(0.2).validation_batch_size(1)
                        .validation_steps(1).verbose(0).callback(rec).seed(5));
  EXPECT_EQ(std::count(rec->calls.begin(), rec->calls.end(), "test_batch_end 0"), 1);
  EXPECT_EQ(std::count(rec->calls.begin(), rec->calls.end(), "test_batch_end 1"), 0);
  try {
    trainer.fit(x, y, FitOptions().validation_freq(0).verbose(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fit: validation_freq must be at least 1, got 0");
  }
}

TEST(Trainer, ShufflingIsSeededPerEpoch) {
  EXPECT_EQ(keras::detail::epoch_permutation(10, 42, 3), keras::detail::epoch_permutation(10, 42, 3));
  EXPECT_NE(keras::detail::epoch_permutation(10, 42, 3), keras::detail::epoch_permutation(10, 42, 4));
  auto p = keras::detail::epoch_permutation(1000, 7, 0);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);

  auto [x, y] = line_data(12);
  Linear a, b, other;
  Trainer ta(a.trainable()), tb(b.trainable()), tother(other.trainable());
  for (Trainer* t : {&ta, &tb, &tother}) t->compile(CompileOptions().optimizer("adam").loss("mse"));
  ta.fit(x, y, FitOptions().batch_size(5).epochs(2).seed(9).verbose(0));
  tb.fit(x, y, FitOptions().batch_size(5).epochs(2).seed(9).verbose(0));
  tother.fit(x, y, FitOptions().batch_size(5).epochs(2).seed(10).verbose(0));
  EXPECT_TRUE(a.w.value().equal(b.w.value()));
  EXPECT_FALSE(a.w.value().equal(other.w.value()));  // another order of batches
  // Resuming: epochs 0..1 then 2..3 equal epochs 0..3 straight.
  Linear c, d;
  Trainer tc(c.trainable()), td(d.trainable());
  tc.compile(CompileOptions().optimizer("adam").loss("mse"));
  td.compile(CompileOptions().optimizer("adam").loss("mse"));
  tc.fit(x, y, FitOptions().batch_size(5).epochs(4).seed(9).verbose(0));
  td.fit(x, y, FitOptions().batch_size(5).epochs(2).seed(9).verbose(0));
  td.fit(x, y, FitOptions().batch_size(5).epochs(4).initial_epoch(2).seed(9).verbose(0));
  EXPECT_TRUE(c.w.value().equal(d.w.value()));
  EXPECT_TRUE(c.b.value().equal(d.b.value()));
}

// Keras's array data are one stream of (epochs - initial_epoch) passes over the samples: an epoch of
// steps_per_epoch batches continues where the previous epoch stopped, across passes, and training stops
// with Keras's warning when the stream runs out (tf.keras TensorLikeDataAdapter never recreates its
// iterator; DataHandler.catch_stop_iteration).
TEST(Trainer, StepsPerEpochContinuesTheDataStreamAcrossEpochs) {
  auto [x, y] = line_data(7);  // batches of 2: rows [0,2) [2,4) [4,6) [6,7), 4 per pass
  auto rows = [&](int64_t b, int64_t e) { return keras::detail::take_rows(x, b, e).to_vector<float>(); };
  {
    Linear model;
    Trainer trainer(model.trainable());
    trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
    auto history = trainer.fit(x, y, FitOptions().batch_size(2).epochs(2).steps_per_epoch(3).shuffle(false).verbose(0));
    ASSERT_EQ(model.seen.size(), 6u);
    const std::vector<std::vector<float>> want{rows(0, 2), rows(2, 4), rows(4, 6), rows(6, 7), rows(0, 2), rows(2, 4)};
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(model.seen[i].to_vector<float>(), want[i]) << "batch " << i;
    EXPECT_EQ(history->epoch(), (std::vector<int>{0, 1}));
  }
  {
    // 2 epochs of 5 steps need 10 batches of a stream of 8: the second epoch stops after 3.
    Linear model;
    Trainer trainer(model.trainable());
    trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
    std::ostringstream os;
    auto history = trainer.fit(x, y, FitOptions().batch_size(2).epochs(3).initial_epoch(1).steps_per_epoch(5)
                                         .shuffle(false).verbose(0).progbar(ProgbarOptions().out(&os)));
    EXPECT_EQ(model.seen.size(), 8u);
    EXPECT_EQ(model.seen.back().to_vector<float>(), rows(6, 7));
    EXPECT_EQ(history->epoch(), (std::vector<int>{1, 2}));
    EXPECT_EQ(os.str(), "WARNING: Your input ran out of data; interrupting training. Make sure that your dataset or "
                        "generator can generate at least `steps_per_epoch * epochs` batches (in this case, 10 "
                        "batches). You may need to use the repeat() function when building your dataset.\n");
  }
  {
    // Shuffled: two epochs of half a pass each see every sample once, in one order.
    auto [x8, y8] = line_data(8);
    Linear model;
    Trainer trainer(model.trainable());
    trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
    trainer.fit(x8, y8, FitOptions().batch_size(2).epochs(2).steps_per_epoch(2).seed(3).verbose(0));
    ASSERT_EQ(model.seen.size(), 4u);
    std::vector<float> all;
    for (const Tensor& t : model.seen) {
      const auto v = t.to_vector<float>();
      all.insert(all.end(), v.begin(), v.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, x8.to_vector<float>());
  }
}

// A shuffled batch copies its rows on every thread once it is large (256 KB); each thread count gives
// the rows a plain loop picks, the last rows of the batch (no row to prefetch past them) included.
TEST(Trainer, GatheredRowsAreTheIndexedRowsOnAnyThreadCount) {
  const int64_t n = 400, width = 784;  // 300 rows of 784 f32 = 940 KB: the parallel path
  Tensor x = Tensor::empty({n, width});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i);
  const std::vector<int64_t> index = keras::detail::epoch_permutation(n, 3, 0);
  const int threads = keel::get_num_threads();
  for (int t : {1, 2}) {
    keel::set_num_threads(t);
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{50, 350}, {398, 400}, {0, 1}}) {
      Tensor got = keras::detail::gather_rows(x, index, begin, end);
      ASSERT_EQ(got.shape(), Shape({end - begin, width}));
      for (int64_t i = begin; i < end; ++i)
        for (int64_t c = 0; c < width; c += 97)
          ASSERT_EQ(got.data<float>()[(i - begin) * width + c], x.data<float>()[index[static_cast<size_t>(i)] * width + c])
              << "threads " << t << " row " << i << " col " << c;
    }
  }
  keel::set_num_threads(threads);
}

TEST(Trainer, EarlyStoppingStopsFitAndRestoresWeights) {
  auto [x, y] = line_data(8);
  Linear model;
  Trainer trainer(model.trainable());
  auto sgd = std::make_shared<SGD>(SGDOptions().learning_rate(5.0));  // diverges: loss grows every epoch
  trainer.compile(CompileOptions().optimizer(sgd).loss("mse"));
  auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").patience(1).restore_best_weights(true));
  auto history = trainer.fit(x, y, FitOptions().batch_size(8).epochs(10).verbose(0).callback(es));
  EXPECT_EQ(history->epoch(), (std::vector<int>{0, 1}));
  EXPECT_EQ(es->stopped_epoch(), 1);
  EXPECT_TRUE(trainer.control().stop_training);
  // Weights are back to those at the end of epoch 0 (the best loss).
  ASSERT_EQ(es->best_weights().size(), 2u);
  EXPECT_TRUE(model.w.value().equal(es->best_weights()[0]));
}

TEST(Trainer, VerboseOutputLinesWhenNotATerminal) {
  auto [x, y] = line_data(6);
  Linear model;
  Trainer trainer(model.trainable());
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
  std::ostringstream os;
  double t = 0;
  auto progbar = ProgbarOptions().out(&os).clock([&t] { return t += 0.25; }).is_terminal([] { return false; });
  trainer.fit(x, y, FitOptions().batch_size(3).epochs(2).shuffle(false).progbar(progbar));
  const std::string s = os.str();
  EXPECT_EQ(s.rfind("Epoch 1/2\n2/2 [==============================] - ", 0), 0u) << s;
  EXPECT_NE(s.find("\nEpoch 2/2\n2/2 [==============================] - "), std::string::npos) << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 4);
  EXPECT_EQ(s.find('\r'), std::string::npos);
  std::ostringstream os2;
  trainer.fit(x, y, FitOptions().batch_size(3).epochs(1).verbose(2).progbar(ProgbarOptions().out(&os2).clock([&t] { return t += 1; })));
  const std::string line = os2.str();
  EXPECT_EQ(line.rfind("2/2 - ", 0), 0u) << line;
  EXPECT_NE(line.find("s - loss: "), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 6), "/step\n") << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

TEST(Trainer, PredictEvaluateAndBatchMethods) {
  auto [x, y] = line_data(7);
  Linear model;
  Trainer trainer(model.trainable());
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse").metrics({"mae"}));
  Tensor p = trainer.predict(x, PredictOptions().batch_size(3));
  ASSERT_EQ(p.shape(), (Shape{7, 1}));
  for (int64_t i = 0; i < 7; ++i) EXPECT_FLOAT_EQ(p.at<float>({i, 0}), 0.5f * x.at<float>({i, 0}));
  EXPECT_EQ(trainer.metrics_names(), (std::vector<std::string>{"loss", "mae"}));
  Logs one = trainer.test_on_batch(x, y);
  Logs all = trainer.evaluate(x, y, EvaluateOptions().batch_size(7).verbose(0));
  EXPECT_EQ(one, all);
  Logs step = trainer.train_on_batch(x, y);
  EXPECT_EQ(step.at("loss"), one.at("loss"));  // the loss before the update
  EXPECT_EQ(trainer.optimizer()->iterations_value(), 1);
}

TEST(Trainer, PredictDrawsKerasBarByDefault) {
  // Keras 2.11-2.15: predict(verbose="auto") is 1, one bar over the predict steps.
  auto [x, y] = line_data(7);
  Linear model;
  Trainer trainer(model.trainable());
  std::ostringstream os;
  double t = 0;
  trainer.predict(x, PredictOptions().batch_size(3).progbar(
                         ProgbarOptions().out(&os).clock([&t] { return t += 0.5; }).is_terminal([] { return false; })));
  const std::string s = os.str();
  EXPECT_EQ(s.rfind("3/3 [==============================] - ", 0), 0u) << s;
  EXPECT_EQ(s.substr(s.size() - 6), "/step\n") << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1) << s;
}

TEST(Trainer, Errors) {
  auto [x, y] = line_data(4);
  Linear model;
  Trainer trainer(model.trainable());
  try {
    trainer.fit(x, y);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fit: you must compile the model before training/testing (call compile first)");
  }
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse"));
  try {
    trainer.fit(x, keras::detail::take_rows(y, 0, 3), FitOptions().verbose(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fit: x [4,1] and y [3,1] must have the same number of samples (first axis)");
  }
  EXPECT_THROW(trainer.fit(x, y, FitOptions().validation_split(1.0)), Error);
  EXPECT_THROW(trainer.fit(x, y, FitOptions().batch_size(0)), Error);
}
