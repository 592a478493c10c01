// BackupAndRestore in one process: an interruption is an exception thrown from a callback (fit
// leaves without on_train_end, as a crash would), then a fresh model and fresh callbacks resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"
#include "keel/keras/callbacks/backup_and_restore.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/callbacks/reduce_lr_on_plateau.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/sequential.h"

using namespace keel;
using namespace keel::keras;
using keel::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct Data {
  Tensor x, y;
};

// 160 Fashion-MNIST images: 128 for training (4 batches of 32), 32 for validation.
const Data& data() {
  static const Data d = [] {
    const auto all = datasets::fashion_mnist::load_data();
    const int64_t n = 160;
    Tensor x = keras::detail::take_rows(all.x_train, 0, n).to(DType::f32).view({n, 784});
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] /= 255.0f;
    return Data{x, keras::detail::take_rows(all.y_train, 0, n)};
  }();
  return d;
}

std::shared_ptr<Sequential> make_model(int64_t hidden = 16) {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(DenseOptions(hidden).activation("relu").input_shape({784})), layers::Dropout(0.25),
      layers::Dense(10, "softmax")});
  m->compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  return m;
}

// The same starting point in another model: weights and every layer's generator.
void copy_start(Sequential& from, Sequential& to) {
  to.set_weights(from.get_weights());
  for (size_t i = 0; i < from.layers().size(); ++i) to.layers()[i]->generator() = from.layers()[i]->generator();
}

struct Interrupt : std::runtime_error {
  Interrupt() : std::runtime_error("interrupted") {}
};

// Throws after global batch `at` (before that batch's backup: BackupAndRestore runs after others).
struct InterruptAt : Callback {
  int64_t at;
  explicit InterruptAt(int64_t k) : at(k) {}
  void on_train_batch_end(int64_t, Logs&) override {
    if (control()->state->global_step() == at) throw Interrupt();
  }
};

FitOptions fit_options(std::vector<std::shared_ptr<Callback>> callbacks, int epochs = 3) {
  return FitOptions().epochs(epochs).batch_size(32).validation_split(0.2).seed(7).verbose(0).callbacks(
      std::move(callbacks));
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same_weights(const Sequential& a, const Sequential& b) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].equal(wb[i])) << "weight " << i;
}

}  // namespace

TEST(BackupAndRestore, EpochSaveFreqBacksUpAfterEachEpochAndKeepsTheBackupWhenAsked) {
  TempDir dir;
  auto model = make_model();
  auto backup = std::make_shared<BackupAndRestore>(dir / "backup", "epoch", /*delete_checkpoint=*/false);
  std::vector<std::string> saves;
  backup->set_save_hook([&](const char* stage) {
    if (std::string(stage) == "saved") saves.push_back(stage);
  });
  model->fit(data().x, data().y, fit_options({backup}, 2));
  EXPECT_EQ(saves.size(), 2u);  // one per epoch, none per batch
  EXPECT_FALSE(backup->restored_from());
  const auto latest = latest_checkpoint(backup->checkpoint_dir());
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, backup->checkpoint_dir() + "/ckpt-2");
  EXPECT_EQ(files_in(backup->checkpoint_dir()),
            (std::vector<std::string>{"checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"}));  // max_to_keep 1

  // Running again resumes after epoch 2: nothing left to train for epochs=2, the weights stay.
  auto again = make_model();
  auto backup2 = std::make_shared<BackupAndRestore>(dir / "backup", "epoch", false);
  auto h = again->fit(data().x, data().y, fit_options({backup2}, 2));
  EXPECT_EQ(backup2->restored_from(), latest);
  expect_same_weights(*model, *again);
  EXPECT_EQ(h->epoch(), (std::vector<int>{0, 1}));  // History came back with the backup
}

TEST(BackupAndRestore, BackupLayoutNamesCallbacksByClass) {
  TempDir dir;
  auto model = make_model();
  auto backup = std::make_shared<BackupAndRestore>(dir / "b", "epoch", /*delete_checkpoint=*/false);
  model->fit(data().x, data().y,
             fit_options({std::make_shared<EarlyStopping>(), backup, std::make_shared<EarlyStopping>()}, 1));
  BundleReader r(dir / "b/chief/ckpt-1");
  for (const std::string key :
       {"callbacks/EarlyStopping/.ATTRIBUTES/KEEL_STATE", "callbacks/EarlyStopping_1/.ATTRIBUTES/KEEL_STATE",
        "callbacks/History/.ATTRIBUTES/KEEL_STATE", "training_state/.ATTRIBUTES/KEEL_STATE",
        "model/layer-1/_random_generator/.ATTRIBUTES/KEEL_STATE", "model/optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
        "model/keras_api/metrics/0/total/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"})
    EXPECT_TRUE(r.contains(key)) << key;
}

TEST(BackupAndRestore, DeleteCheckpointRemovesTheBackupWhenTrainingCompletes) {
  TempDir dir;
  auto model = make_model();
  auto backup = std::make_shared<BackupAndRestore>(dir / "backup", 3);
  size_t saves = 0;
  backup->set_save_hook([&](const char* stage) { saves += std::string(stage) == "saved"; });
  model->fit(data().x, data().y, fit_options({backup}, 2));
  EXPECT_EQ(saves, 2u);  // 8 batches, every 3rd
  EXPECT_FALSE(fs::exists(dir / "backup"));
}

TEST(BackupAndRestore, MidEpochResumeEqualsUninterruptedFit) {
  TempDir dir;
  auto straight = make_model();
  auto start = make_model();
  copy_start(*straight, *start);
  auto es_straight = std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(50));
  const auto h_straight = straight->fit(data().x, data().y, fit_options({es_straight}));

  // 4 batches per epoch. Interrupted after global batch 7 (epoch 1, step 2); the last backup (every 5
  // batches) was taken after global batch 5: the resumed fit starts at epoch 1, step 1.
  auto backup = std::make_shared<BackupAndRestore>(dir / "b", 5);
  EXPECT_THROW(start->fit(data().x, data().y,
                          fit_options({std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(50)), backup,
                                       std::make_shared<InterruptAt>(7)})),
               Interrupt);
  ASSERT_TRUE(latest_checkpoint(dir / "b/chief"));

  auto resumed = make_model();  // other initial weights and generators: all must come from the backup
  auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(50));
  auto backup2 = std::make_shared<BackupAndRestore>(dir / "b", 5);
  const auto h = resumed->fit(data().x, data().y, fit_options({es, backup2}));
  ASSERT_TRUE(backup2->restored_from());
  expect_same_weights(*straight, *resumed);
  EXPECT_EQ(h->epoch(), h_straight->epoch());
  for (const auto& k : h_straight->keys()) EXPECT_EQ(h->at(k), h_straight->at(k)) << k;
  EXPECT_EQ(es->best(), es_straight->best());
  EXPECT_EQ(resumed->optimizer()->iterations().value().item<int64_t>(), 12);
  EXPECT_FALSE(fs::exists(dir / "b"));
}

TEST(BackupAndRestore, ResumeRestoresEarlyStoppingWaitAndBest) {
  TempDir dir;
  // min_delta so large that only the first epoch counts as an improvement: wait grows every epoch.
  auto options = EarlyStoppingOptions().monitor("val_loss").min_delta(100).patience(50);
  auto model = make_model();
  auto es = std::make_shared<EarlyStopping>(options);
  auto backup = std::make_shared<BackupAndRestore>(dir / "b");
  EXPECT_THROW(model->fit(data().x, data().y, fit_options({es, backup, std::make_shared<InterruptAt>(9)})), Interrupt);
  EXPECT_EQ(es->wait(), 1);  // epochs 0 and 1 done and backed up
  const double best = es->best();

  auto es2 = std::make_shared<EarlyStopping>(options);
  auto resumed = make_model();
  const auto h = resumed->fit(data().x, data().y, fit_options({es2, std::make_shared<BackupAndRestore>(dir / "b")}));
  EXPECT_EQ(es2->wait(), 2);  // a fresh EarlyStopping would be at 0 after one epoch
  EXPECT_EQ(es2->best(), best);
  EXPECT_EQ(h->at("val_loss").front(), best);
  EXPECT_EQ(h->epoch(), (std::vector<int>{0, 1, 2}));

  // A later fit with the same EarlyStopping starts over (the restore does not leak into it).
  resumed->fit(data().x, data().y, fit_options({es2}, 1));
  EXPECT_EQ(es2->wait(), 0);
}

TEST(BackupAndRestore, ResumeRestoresReduceLROnPlateauAndTheLearningRate) {
  TempDir dir;
  // min_delta so large that only epoch 0 improves: with patience 2 and cooldown 2, epoch 2 reduces the
  // rate (cooldown 2), 3 counts the cooldown down, 4 ends it and waits. 5 epochs of 4 batches.
  auto options = ReduceLROnPlateauOptions().monitor("val_loss").min_delta(100).patience(2).cooldown(2).factor(0.5);
  auto straight = make_model();
  auto start = make_model();
  copy_start(*straight, *start);
  auto p_straight = std::make_shared<ReduceLROnPlateau>(options);
  const auto h_straight = straight->fit(data().x, data().y, fit_options({p_straight}, 5));
  const double reduced = static_cast<float>(static_cast<double>(static_cast<float>(1e-3)) * 0.5);
  EXPECT_EQ(straight->optimizer()->learning_rate(), reduced);
  EXPECT_EQ(h_straight->at("lr").back(), reduced);
  EXPECT_EQ(p_straight->wait(), 1);
  EXPECT_EQ(p_straight->cooldown_counter(), 0);

  // Interrupted after global batch 14 (epoch 3, step 2); backups every 5 batches: the last, after global
  // batch 10 (epoch 2, step 2), holds the state after epoch 1 (wait 1, best = epoch 0's val_loss) and
  // the unreduced rate. A fresh callback (wait 0, best inf) would not reduce at epoch 2.
  auto backup = std::make_shared<BackupAndRestore>(dir / "b", 5);
  auto p_start = std::make_shared<ReduceLROnPlateau>(options);
  EXPECT_THROW(start->fit(data().x, data().y, fit_options({p_start, backup, std::make_shared<InterruptAt>(14)}, 5)),
               Interrupt);
  EXPECT_EQ(p_start->cooldown_counter(), 2);  // epoch 2 reduced before the interruption

  auto resumed = make_model();
  auto p = std::make_shared<ReduceLROnPlateau>(options);
  auto backup2 = std::make_shared<BackupAndRestore>(dir / "b", 5);
  const auto h = resumed->fit(data().x, data().y, fit_options({p, backup2}, 5));
  ASSERT_TRUE(backup2->restored_from());
  expect_same_weights(*straight, *resumed);
  EXPECT_EQ(resumed->optimizer()->learning_rate(), straight->optimizer()->learning_rate());
  EXPECT_EQ(p->wait(), p_straight->wait());
  EXPECT_EQ(p->cooldown_counter(), p_straight->cooldown_counter());
  EXPECT_EQ(p->best(), p_straight->best());
  EXPECT_EQ(h->epoch(), h_straight->epoch());
  for (const auto& k : h_straight->keys()) EXPECT_EQ(h->at(k), h_straight->at(k)) << k;
  EXPECT_EQ(h->keys(), h_straight->keys());
}

TEST(BackupAndRestore, BackupOfAnotherModelIsAnErrorNamingTheVariableAndBothShapes) {
  TempDir dir;
  auto model = make_model(16);
  EXPECT_THROW(model->fit(data().x, data().y,
                          fit_options({std::make_shared<BackupAndRestore>(dir / "b"), std::make_shared<InterruptAt>(5)})),
               Interrupt);
  auto other = make_model(24);
  const auto before = other->get_weights();
  try {
    other->fit(data().x, data().y, fit_options({std::make_shared<BackupAndRestore>(dir / "b")}));
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model/layer_with_weights-0/kernel"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[784,24]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[784,16]"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir / "b/chief/ckpt-1"), std::string::npos) << msg;
  }
  const auto after = other->get_weights();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(before[i].equal(after[i])) << "nothing assigned";
}

TEST(BackupAndRestore, BackupOfAFitOverOtherDataIsAnError) {
  TempDir dir;
  auto model = make_model();
  EXPECT_THROW(model->fit(data().x, data().y,
                          fit_options({std::make_shared<BackupAndRestore>(dir / "b"), std::make_shared<InterruptAt>(5)})),
               Interrupt);
  auto again = make_model();
  const Tensor x = keras::detail::take_rows(data().x, 0, 100), y = keras::detail::take_rows(data().y, 0, 100);
  try {
    again->fit(x, y, fit_options({std::make_shared<BackupAndRestore>(dir / "b")}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("128 training samples in 4 steps per epoch, this fit over 80 in 3"),
              std::string::npos)
        << e.what();
  }
}

TEST(BackupAndRestore, CorruptBackupIsAnErrorNamingTheFile) {
  TempDir dir;
  auto model = make_model();
  EXPECT_THROW(model->fit(data().x, data().y,
                          fit_options({std::make_shared<BackupAndRestore>(dir / "b"), std::make_shared<InterruptAt>(5)})),
               Interrupt);
  const std::string prefix = dir / "b/chief/ckpt-1";
  for (const std::string& file : {prefix + ".data-00000-of-00001", prefix + ".index"}) {
    SCOPED_TRACE(file);
    std::string bytes;
    {
      std::ifstream in(file, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::string bad = bytes;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bad;
    auto again = make_model();
    try {
      again->fit(data().x, data().y, fit_options({std::make_shared<BackupAndRestore>(dir / "b")}));
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(prefix), std::string::npos) << e.what();
    }
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }
  // The state file too.
  std::ofstream(dir / "b/chief/checkpoint", std::ios::trunc) << "model_checkpoint_path: \"ckpt-1\nnonsense {";
  try {
    make_model()->fit(data().x, data().y, fit_options({std::make_shared<BackupAndRestore>(dir / "b")}));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "b/chief/checkpoint"), std::string::npos) << e.what();
  }
}

TEST(BackupAndRestore, RunsAfterTheOtherCallbacks) {
  auto backup = std::make_shared<BackupAndRestore>("/tmp/unused");
  auto es = std::make_shared<EarlyStopping>();
  CallbackList list({backup, es});
  list.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/false);
  ASSERT_EQ(list.callbacks().size(), 3u);
  EXPECT_EQ(list.callbacks()[0], es);
  EXPECT_EQ(list.callbacks()[1]->class_name(), "History");
  EXPECT_EQ(list.callbacks()[2], backup);
  EXPECT_EQ(backup->class_name(), "BackupAndRestore");
}
