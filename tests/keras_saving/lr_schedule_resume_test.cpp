// A scheduled optimizer through fit, checkpoints and model files: ModelCheckpoint after epoch 1 + a fresh
// model resumed from latest_checkpoint, and save + load_model (.h5 and directory) + resume, each give bit
// for bit the weights, slots and learning rate of an uninterrupted run (Fashion-MNIST subset, one thread);
// the loaded model's optimizer has the schedule back.
#include <gtest/gtest.h>

#include <cmath>

#include "fashion_subset.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"
#include "keel/graph/threads.h"
#include "keel/keras/callbacks/model_checkpoint.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/sequential.h"
#include "../keras_h5/h5_test_util.h"
#include "same_training_state.h"

namespace keel::keras {
namespace {

using test::ScratchDir;

// 384 images: 12 batches of 32 a epoch.
const keel::testing::FashionSubset& data() { return keel::testing::fashion_subset(384, 1); }

class ScheduleResume : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_ = get_num_threads();
    set_num_threads(1);
  }
  void TearDown() override { set_num_threads(threads_); }

 private:
  int threads_ = 1;
};

// Adam whose rate halves every 12 steps (one epoch), or the constant 1e-3 for comparison.
std::shared_ptr<Optimizer> scheduled_adam(bool schedule = true) {
  if (!schedule) return std::make_shared<Adam>(AdamOptions().learning_rate(1e-3));
  return std::make_shared<Adam>(AdamOptions().learning_rate(ExponentialDecay(1e-3, /*decay_steps=*/12, 0.5)));
}

std::shared_ptr<Sequential> make_model(uint64_t seed, bool schedule = true) {
  backend::NameScope names;
  utils::set_random_seed(seed);
  auto m = std::make_shared<Sequential>(
      std::vector<LayerArg>{layers::Dense(DenseOptions(32).activation("relu").input_shape({784}).name("hidden")),
                            layers::Dropout(DropoutOptions(0.2).name("drop")),
                            layers::Dense(DenseOptions(10).activation("softmax").name("out"))},
      "classifier");
  m->compile(CompileOptions().optimizer(scheduled_adam(schedule)).loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  return m;
}

FitOptions fit_options(int epochs, int initial_epoch = 0) {
  return FitOptions().epochs(epochs).initial_epoch(initial_epoch).batch_size(32).seed(7).verbose(0);
}

using testing::expect_same_training_state;

TEST_F(ScheduleResume, ModelCheckpointThenLatestCheckpointResumesBitwise) {
  constexpr int K = 3;
  const auto& d = data();
  auto straight = make_model(3);
  straight->fit(d.x_train, d.y_train, fit_options(K));
  ASSERT_EQ(straight->optimizer()->iterations_value(), 36);
  // The last step (iterations 35) used schedule(35) = 1e-3 * 0.5^(35/12), as float32.
  EXPECT_EQ(straight->optimizer()->learning_rate(), static_cast<double>(static_cast<float>(1e-3 * std::pow(0.5, 35.0 / 12))));
  // The schedule changes the result: the same run at the constant 1e-3 ends elsewhere.
  auto constant = make_model(3, /*schedule=*/false);
  constant->fit(d.x_train, d.y_train, fit_options(K));
  EXPECT_FALSE(constant->get_weights()[0].equal(straight->get_weights()[0]));

  ScratchDir dir;
  auto first = make_model(3);
  auto cp = std::make_shared<ModelCheckpoint>(dir.path("cp-{epoch:04d}.ckpt"),
                                              ModelCheckpointOptions().save_weights_only(true));
  first->fit(d.x_train, d.y_train, fit_options(1).callback(cp));
  const auto latest = latest_checkpoint(dir.dir());
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, dir.path("cp-0001.ckpt"));

  auto resumed = make_model(4);  // other initial weights, a fresh optimizer with the same schedule
  resumed->load_weights(*latest);
  EXPECT_EQ(resumed->optimizer()->iterations_value(), 12);
  EXPECT_EQ(resumed->optimizer()->learning_rate(), first->optimizer()->learning_rate());  // the checkpoint's f32
  resumed->fit(d.x_train, d.y_train, fit_options(K, 1));
  expect_same_training_state(*straight, *resumed);
}

TEST_F(ScheduleResume, SaveLoadModelKeepsScheduleAndResumesBitwise) {
  constexpr int K = 3;
  const auto& d = data();
  auto straight = make_model(5);
  straight->fit(d.x_train, d.y_train, fit_options(K));
  auto first = make_model(5);
  first->fit(d.x_train, d.y_train, fit_options(1));
  const nlohmann::json want_lr = first->optimizer()->get_config()["learning_rate"];
  ASSERT_EQ(want_lr["class_name"], "ExponentialDecay");

  ScratchDir dir;
  for (const std::string name : {"model.h5", "model_dir"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.path(name);
    first->save(path);
    if (name == "model.h5") {
      const KerasH5File f = read_keras_h5(path);
      ASSERT_TRUE(f.training_config.has_value());
      EXPECT_EQ(nlohmann::json::parse(*f.training_config)["optimizer_config"]["config"]["learning_rate"], want_lr);
    }
    std::shared_ptr<Model> loaded;
    {
      backend::NameScope names;
      loaded = load_model(path);
    }
    ASSERT_TRUE(loaded->compiled());
    ASSERT_NE(loaded->optimizer()->learning_rate_schedule(), nullptr);
    EXPECT_EQ(loaded->optimizer()->learning_rate_schedule()->class_name(), "ExponentialDecay");
    EXPECT_EQ(loaded->optimizer()->get_config(), first->optimizer()->get_config());
    EXPECT_EQ(loaded->optimizer()->iterations_value(), 12);
    EXPECT_THROW(loaded->optimizer()->set_learning_rate(0.1), Error);
    loaded->fit(d.x_train, d.y_train, fit_options(K, 1));
    expect_same_training_state(*straight, *loaded);
  }
}

}  // namespace
}  // namespace keel::keras
