// ModelCheckpoint during fit on a small Fashion-MNIST subset: the files it writes and their names,
// latest_checkpoint, restoring into a fresh model, period, save_best_only (epoch and batch based),
// max_to_keep rotation, Keras's messages, and its state across an interrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/callbacks/model_checkpoint.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/weights.h"
#include "keel/keras/sequential.h"
#include "fashion_subset.h"

using namespace keel;
using namespace keel::keras;
using keel::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Subset = keel::testing::FashionSubset;
const Subset& data() { return keel::testing::fashion_subset(256, 128); }

std::shared_ptr<Sequential> tiny_model(uint64_t seed) {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(16).activation("relu").input_shape({784}).kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(seed))),
      layers::Dense(layers::DenseOptions(10).kernel_initializer(std::make_shared<initializers::GlorotUniform>(seed + 1)))});
  m->compile(CompileOptions()
                 .optimizer("adam")
                 .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                 .metrics({"accuracy"}));
  return m;
}

FitOptions fit_options(int epochs) {
  return FitOptions().epochs(epochs).batch_size(64).verbose(0).seed(7).validation_data(data().x_test, data().y_test);
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.numel()) * dtype_size(a.dtype())) == 0;
}

// The directory's entries, sorted (the `checkpoint` state file included).
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> bundle_files(const std::vector<std::string>& prefixes) {
  std::vector<std::string> names;
  for (const auto& p : prefixes) {
    names.push_back(p + ".data-00000-of-00001");
    names.push_back(p + ".index");
  }
  names.push_back("checkpoint");
  std::sort(names.begin(), names.end());
  return names;
}

// Sets `key` in the epoch logs to values[epoch] (placed before the ModelCheckpoint, which sees the
// same logs), and snapshots the model's weights at each epoch end.
struct InjectMonitor : Callback {
  InjectMonitor(std::string key, std::vector<double> values) : key(std::move(key)), values(std::move(values)) {}
  void on_epoch_end(int epoch, Logs& logs) override {
    logs.set(key, values.at(static_cast<size_t>(epoch)));
    std::vector<Tensor> w;
    for (const Variable& v : control()->weights()) w.push_back(v.value().detach().clone());
    weights_at_epoch.push_back(w);
  }
  std::string key;
  std::vector<double> values;
  std::vector<std::vector<Tensor>> weights_at_epoch;
};

// Records the training loss of every batch.
struct BatchLosses : Callback {
  void on_train_batch_end(int64_t, Logs& logs) override { losses.push_back(logs.at("loss")); }
  std::vector<double> losses;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ModelCheckpoint, WeightsEveryEpochThenLatestCheckpointRestoresIdenticalPredictions) {
  TempDir tmp;
  const std::string dir = tmp / "training_2";  // created by the callback
  std::ostringstream out;
  auto model = tiny_model(1);
  auto cp = std::make_shared<ModelCheckpoint>(
      dir + "/cp-{epoch:04d}.ckpt", ModelCheckpointOptions().save_weights_only(true).verbose(1).out(&out));
  model->fit(data().x_train, data().y_train, fit_options(3).callback(cp));

  EXPECT_EQ(listing(dir), bundle_files({"cp-0001.ckpt", "cp-0002.ckpt", "cp-0003.ckpt"}));
  EXPECT_EQ(out.str(), "\nEpoch 1: saving model to " + dir + "/cp-0001.ckpt\n" + "\nEpoch 2: saving model to " + dir +
                           "/cp-0002.ckpt\n" + "\nEpoch 3: saving model to " + dir + "/cp-0003.ckpt\n");
  const auto latest = latest_checkpoint(dir);
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, dir + "/cp-0003.ckpt");

  const Tensor trained = model->predict(data().x_test, PredictOptions().verbose(0));
  auto fresh = tiny_model(100);
  const Tensor untrained = fresh->predict(data().x_test, PredictOptions().verbose(0));
  EXPECT_FALSE(same_bytes(untrained, trained));
  load_weights(*fresh, *latest);
  EXPECT_TRUE(same_bytes(fresh->predict(data().x_test, PredictOptions().verbose(0)), trained));
}

TEST(ModelCheckpoint, PeriodTwoOverFiveEpochsSavesEpochsTwoAndFour) {
  TempDir tmp;
  auto model = tiny_model(1);
  auto cp = std::make_shared<ModelCheckpoint>(tmp / "cp-{epoch:04d}.ckpt",
                                              ModelCheckpointOptions().save_weights_only(true).period(2));
  model->fit(data().x_train, data().y_train, fit_options(5).callback(cp));
  EXPECT_EQ(listing(tmp.path()), bundle_files({"cp-0002.ckpt", "cp-0004.ckpt"}));
  EXPECT_EQ(*latest_checkpoint(tmp.path()), tmp / "cp-0004.ckpt");
  EXPECT_EQ(cp->epochs_since_last_save(), 1);
}

TEST(ModelCheckpoint, FilepathWithLogsAndWholeModelDirectory) {
  TempDir tmp;
  auto model = tiny_model(1);
  auto inject = std::make_shared<InjectMonitor>("score", std::vector<double>{0.25, 0.125});
  auto cp = std::make_shared<ModelCheckpoint>(tmp / "m-{epoch:02d}-{score:.3f}-{val_loss:.2f}");
  model->fit(data().x_train, data().y_train, fit_options(2).callback(inject).callback(cp));
  const auto names = listing(tmp.path());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].substr(0, 11), "m-01-0.250-");
  EXPECT_EQ(names[1].substr(0, 11), "m-02-0.125-");
  // The whole model, as a SavedModel-style directory: load_model rebuilds it with the final weights.
  auto loaded = load_model(tmp / names[1]);
  EXPECT_TRUE(same_bytes(loaded->predict(data().x_test, PredictOptions().verbose(0)),
                         model->predict(data().x_test, PredictOptions().verbose(0))));
}

TEST(ModelCheckpoint, SaveBestOnlyWritesOnlyOnImprovement) {
  TempDir tmp;
  std::ostringstream out;
  auto model = tiny_model(1);
  // Minimized: improves at epochs 1, 3 and 5 (4 equals the best: not an improvement).
  auto inject = std::make_shared<InjectMonitor>("val_score", std::vector<double>{0.5, 0.6, 0.4, 0.4, 0.3125});
  const std::string best = tmp / "best.h5";
  auto cp = std::make_shared<ModelCheckpoint>(
      best, ModelCheckpointOptions().monitor("val_score").save_best_only(true).save_weights_only(true).verbose(1).out(
                &out));
  model->fit(data().x_train, data().y_train, fit_options(4).callback(inject).callback(cp));
  EXPECT_EQ(out.str(),
            "\nEpoch 1: val_score improved from inf to 0.50000, saving model to " + best + "\n" +
                "\nEpoch 2: val_score did not improve from 0.50000\n" +
                "\nEpoch 3: val_score improved from 0.50000 to 0.40000, saving model to " + best + "\n" +
                "\nEpoch 4: val_score did not improve from 0.40000\n");
  EXPECT_EQ(cp->best(), 0.4);
  // The file holds epoch 3's weights, not the last ones.
  auto fresh = tiny_model(100);
  load_weights(*fresh, best);
  const auto w = fresh->get_weights();
  ASSERT_EQ(w.size(), inject->weights_at_epoch[2].size());
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_TRUE(same_bytes(w[i], inject->weights_at_epoch[2][i])) << "weight " << i;
    EXPECT_FALSE(same_bytes(w[i], inject->weights_at_epoch[3][i])) << "weight " << i;
  }
}

TEST(ModelCheckpoint, ModeAndMissingMonitor) {
  auto maximizing = [](const std::string& monitor, const std::string& mode = "auto") {
    return ModelCheckpoint("x", ModelCheckpointOptions().monitor(monitor).mode(mode)).maximizing();
  };
  EXPECT_TRUE(maximizing("val_accuracy"));
  EXPECT_TRUE(maximizing("acc"));
  EXPECT_TRUE(maximizing("val_sparse_categorical_accuracy"));
  EXPECT_TRUE(maximizing("fmeasure_1"));
  EXPECT_FALSE(maximizing("val_loss"));
  EXPECT_FALSE(maximizing("val_accuracy", "min"));
  EXPECT_TRUE(maximizing("loss", "max"));
  EXPECT_EQ(ModelCheckpoint("x", ModelCheckpointOptions().monitor("val_accuracy")).best(),
            -std::numeric_limits<double>::infinity());
  EXPECT_EQ(ModelCheckpoint("x", ModelCheckpointOptions().initial_value_threshold(0.25)).best(), 0.25);

  // A monitor the logs never have: Keras's warning at every epoch (tf.keras 2.11-2.15 calls
  // logging.warning in each _save_model, which does not deduplicate), and nothing written.
  TempDir tmp;
  std::ostringstream out;
  auto model = tiny_model(1);
  auto cp = std::make_shared<ModelCheckpoint>(
      tmp / "w.h5", ModelCheckpointOptions().monitor("val_f1").save_best_only(true).verbose(1).out(&out));
  model->fit(data().x_train, data().y_train, fit_options(3).callback(cp));
  const std::string warning = "WARNING: Can save best model only with val_f1 available, skipping.\n";
  EXPECT_EQ(out.str(), warning + warning + warning);
  EXPECT_TRUE(listing(tmp.path()).empty());
}

TEST(ModelCheckpoint, MaxToKeepRotatesBundlesFilesAndDirectories) {
  TempDir tmp;
  {
    auto model = tiny_model(1);
    const std::string dir = tmp / "bundles";
    auto cp = std::make_shared<ModelCheckpoint>(dir + "/cp-{epoch}.ckpt",
                                                ModelCheckpointOptions().save_weights_only(true).max_to_keep(2));
    model->fit(data().x_train, data().y_train, fit_options(4).callback(cp));
    EXPECT_EQ(listing(dir), bundle_files({"cp-3.ckpt", "cp-4.ckpt"}));
    EXPECT_EQ(cp->kept(), (std::vector<std::string>{dir + "/cp-3.ckpt", dir + "/cp-4.ckpt"}));
    EXPECT_EQ(*latest_checkpoint(dir), dir + "/cp-4.ckpt");
  }
  {
    auto model = tiny_model(1);
    const std::string dir = tmp / "h5";
    auto cp = std::make_shared<ModelCheckpoint>(dir + "/w-{epoch}.h5",
                                                ModelCheckpointOptions().save_weights_only(true).max_to_keep(1));
    model->fit(data().x_train, data().y_train, fit_options(3).callback(cp));
    EXPECT_EQ(listing(dir), std::vector<std::string>{"w-3.h5"});
  }
  {
    auto model = tiny_model(1);
    const std::string dir = tmp / "models";
    auto cp = std::make_shared<ModelCheckpoint>(dir + "/m-{epoch}", ModelCheckpointOptions().max_to_keep(1));
    model->fit(data().x_train, data().y_train, fit_options(2).callback(cp));
    EXPECT_EQ(listing(dir), std::vector<std::string>{"m-2"});
    EXPECT_TRUE(fs::exists(dir + "/m-2/" + kSavedModelFilename));
  }
  {
    // The same path written again is the newest, never deleted.
    auto model = tiny_model(1);
    const std::string dir = tmp / "same";
    auto cp = std::make_shared<ModelCheckpoint>(dir + "/cp.ckpt",
                                                ModelCheckpointOptions().save_weights_only(true).max_to_keep(1));
    model->fit(data().x_train, data().y_train, fit_options(2).callback(cp));
    EXPECT_EQ(listing(dir), bundle_files({"cp.ckpt"}));
  }
}

TEST(ModelCheckpoint, AFailedSaveDeletesNothing) {
  TempDir tmp;
  auto model = tiny_model(1);
  // Epoch 2's h5 file cannot be written (a directory is in the way): fit fails, epoch 1's file stays.
  fs::create_directories(tmp / "w-2.h5/blocker");
  auto cp = std::make_shared<ModelCheckpoint>(tmp / "w-{epoch}.h5",
                                              ModelCheckpointOptions().save_weights_only(true).max_to_keep(1));
  EXPECT_THROW(model->fit(data().x_train, data().y_train, fit_options(3).callback(cp)), Error);
  EXPECT_EQ(listing(tmp.path()), (std::vector<std::string>{"w-1.h5", "w-2.h5"}));
  EXPECT_TRUE(fs::is_regular_file(tmp / "w-1.h5"));
  EXPECT_EQ(cp->kept(), std::vector<std::string>{tmp / "w-1.h5"});
  auto fresh = tiny_model(100);
  EXPECT_EQ(load_weights(*fresh, tmp / "w-1.h5").weights_loaded, 4u);
}

TEST(ModelCheckpoint, BatchSaveFreqCountsAcrossEpochs) {
  TempDir tmp;
  auto model = tiny_model(1);
  std::ostringstream out;
  // 4 batches per epoch, every 3 batches: global batches 3 and 6 = epoch 1 batch 3, epoch 2 batch 2.
  auto cp = std::make_shared<ModelCheckpoint>(
      tmp / "cp-{epoch}-{batch}.h5", ModelCheckpointOptions().save_weights_only(true).save_freq(3).verbose(1).out(&out));
  model->fit(data().x_train, data().y_train, fit_options(2).callback(cp));
  EXPECT_EQ(listing(tmp.path()), (std::vector<std::string>{"cp-1-3.h5", "cp-2-2.h5"}));
  EXPECT_EQ(out.str(), "\nEpoch 1: saving model to " + tmp / "cp-1-3.h5" + "\n" + "\nEpoch 2: saving model to " +
                           tmp / "cp-2-2.h5" + "\n");
  EXPECT_EQ(cp->batches_since_last_save(), 2);
}

TEST(ModelCheckpoint, SaveBestOnlyWithBatchSaveFreqUsesTheBatchLogs) {
  TempDir tmp;
  auto model = tiny_model(1);
  auto losses = std::make_shared<BatchLosses>();
  auto cp = std::make_shared<ModelCheckpoint>(
      tmp / "cp-{epoch}-{batch}.h5",
      ModelCheckpointOptions().monitor("loss").save_best_only(true).save_weights_only(true).save_freq(2));
  model->fit(data().x_train, data().y_train, fit_options(3).callback(losses).callback(cp));
  // Expected from the recorded losses: every 2nd batch (global), saved when below the best so far.
  ASSERT_EQ(losses->losses.size(), 12u);
  std::vector<std::string> want;
  double best = std::numeric_limits<double>::infinity();
  for (size_t g = 1; g < losses->losses.size(); g += 2) {
    if (losses->losses[g] < best) {
      best = losses->losses[g];
      want.push_back("cp-" + std::to_string(g / 4 + 1) + "-" + std::to_string(g % 4 + 1) + ".h5");
    }
  }
  std::sort(want.begin(), want.end());
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(listing(tmp.path()), want);
  EXPECT_EQ(cp->best(), best);
}

TEST(ModelCheckpoint, StateResumesBestCountersAndRotation) {
  TempDir tmp;
  const std::string pattern = tmp / "cp-{epoch}.ckpt";
  const auto options = ModelCheckpointOptions()
                           .monitor("val_score")
                           .save_best_only(true)
                           .save_weights_only(true)
                           .max_to_keep(2)
                           .period(1);
  // First run: 3 epochs, saves at epochs 1 and 2 (0.5, 0.25), then "killed".
  auto model = tiny_model(1);
  auto inject = std::make_shared<InjectMonitor>("val_score", std::vector<double>{0.5, 0.25, 0.375, 0.3, 0.125});
  auto cp = std::make_shared<ModelCheckpoint>(pattern, options);
  model->fit(data().x_train, data().y_train, fit_options(3).callback(inject).callback(cp));
  EXPECT_EQ(cp->kept(), (std::vector<std::string>{tmp / "cp-1.ckpt", tmp / "cp-2.ckpt"}));
  const std::string state = cp->save_state();

  ModelCheckpoint back(pattern, options);
  back.restore_state(state);
  EXPECT_EQ(back.best(), 0.25);
  EXPECT_EQ(back.kept(), cp->kept());
  EXPECT_EQ(back.epochs_since_last_save(), cp->epochs_since_last_save());
  EXPECT_EQ(back.save_state(), state);

  // Resumed run with a fresh callback: epoch 4 (0.3) must not overwrite the better model, epoch 5
  // (0.125) saves and rotates out cp-1 from the first run.
  auto resumed = std::make_shared<ModelCheckpoint>(pattern, options);
  resumed->restore_state(state);
  model->fit(data().x_train, data().y_train, fit_options(5).initial_epoch(3).callback(inject).callback(resumed));
  EXPECT_EQ(listing(tmp.path()), bundle_files({"cp-2.ckpt", "cp-5.ckpt"}));
  EXPECT_EQ(resumed->best(), 0.125);
  EXPECT_EQ(resumed->kept(), (std::vector<std::string>{tmp / "cp-2.ckpt", tmp / "cp-5.ckpt"}));

  // Batch counters too.
  ModelCheckpoint batches("b-{batch}", ModelCheckpointOptions().save_freq(3));
  Logs none;
  batches.on_epoch_begin(0, none);
  for (int64_t b = 0; b < 2; ++b) batches.on_train_batch_end(b, none);  // 2 seen, no save (no model needed)
  ModelCheckpoint batches_back("b-{batch}", ModelCheckpointOptions().save_freq(3));
  batches_back.restore_state(batches.save_state());
  EXPECT_EQ(batches_back.batches_since_last_save(), 2);
  EXPECT_EQ(batches_back.save_state(), batches.save_state());
}

TEST(ModelCheckpoint, StateRejectsGarbage) {
  ModelCheckpoint cp("x");
  EXPECT_THROW(cp.restore_state(""), Error);
  EXPECT_THROW(cp.restore_state("22 serialization::archive"), Error);
  const std::string good = cp.save_state();
  EXPECT_THROW(cp.restore_state(good.substr(0, good.size() / 2)), Error);
  EarlyStopping es;
  EXPECT_NE(error_of([&] { cp.restore_state(es.save_state()); }).find("expected a 'ModelCheckpoint' record"),
            std::string::npos);
}

TEST(ModelCheckpoint, BadArgumentsAreErrors) {
  EXPECT_EQ(error_of([] { ModelCheckpoint("x", ModelCheckpointOptions().mode("best")); }),
            "ModelCheckpoint: mode 'best' is not one of auto, min, max");
  EXPECT_EQ(error_of([] { ModelCheckpoint("x", ModelCheckpointOptions().period(0)); }),
            "ModelCheckpoint: period must be at least 1, got 0");
  EXPECT_EQ(error_of([] { ModelCheckpoint("x", ModelCheckpointOptions().max_to_keep(-1)); }),
            "ModelCheckpoint: max_to_keep must not be negative, got -1");
  EXPECT_EQ(error_of([] { ModelCheckpoint("", ModelCheckpointOptions()); }), "ModelCheckpoint: empty filepath");
  EXPECT_EQ(error_of([] { ModelCheckpointOptions().save_freq("weekly"); }),
            "Unrecognized save_freq: weekly. Expected save_freq are \"epoch\" or integer");
  EXPECT_EQ(error_of([] { ModelCheckpointOptions().save_freq(0); }),
            "save_freq: a number of batches must be positive, got 0");
  // A filepath field that is not in the logs stops fit with the available keys.
  TempDir tmp;
  auto model = tiny_model(1);
  auto cp = std::make_shared<ModelCheckpoint>(tmp / "cp-{val_acc:.2f}.h5");
  EXPECT_EQ(error_of([&] { model->fit(data().x_train, data().y_train, fit_options(1).callback(cp)); }),
            "format_fields: \"" + tmp / "cp-{val_acc:.2f}.h5" +
                "\" has the field 'val_acc', which is not available (available: epoch, loss, accuracy, val_loss, "
                "val_accuracy)");
  EXPECT_TRUE(listing(tmp.path()).empty());
}
