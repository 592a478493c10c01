// Optimizer state through save_weights/load_weights (checkpoints) and save/load_model (.h5 and
// directory): training continues bit for bit, on a Fashion-MNIST subset, at one thread.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fashion_subset.h"
#include "keel/checkpoint/bundle.h"
#include "keel/graph/error.h"
#include "keel/graph/threads.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/sequential.h"
#include "../keras_h5/h5_test_util.h"
#include "same_training_state.h"

namespace keel::keras {
namespace {

using test::ScratchDir;

struct Subset {
  Tensor x, y;
};

// The first 384 training images, pixels in [0, 1], flattened.
const Subset& data() {
  static const Subset s{keel::testing::fashion_subset(384, 1).x_train, keel::testing::fashion_subset(384, 1).y_train};
  return s;
}

class OneThread : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_ = get_num_threads();
    set_num_threads(1);
  }
  void TearDown() override { set_num_threads(threads_); }

 private:
  int threads_ = 1;
};

// Dense + Dropout + Dense, Adam; the same initial weights for the same `seed`.
std::shared_ptr<Sequential> make_model(uint64_t seed, bool dropout, bool compile = true) {
  backend::NameScope names;
  utils::set_random_seed(seed);
  std::vector<LayerArg> layers = {layers::Dense(DenseOptions(32).activation("relu").input_shape({784}).name("hidden"))};
  if (dropout) layers.push_back(layers::Dropout(DropoutOptions(0.25).name("drop")));
  layers.push_back(layers::Dense(DenseOptions(10).activation("softmax").name("out")));
  auto m = std::make_shared<Sequential>(layers, "classifier");
  if (compile) {
    m->compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  }
  return m;
}

FitOptions fit_options(int epochs, int initial_epoch = 0) {
  return FitOptions().epochs(epochs).initial_epoch(initial_epoch).batch_size(32).seed(7).verbose(0);
}

using testing::expect_same_training_state;

Tensor rows(const Tensor& t, int64_t begin, int64_t end) { return keras::detail::take_rows(t, begin, end); }

TEST_F(OneThread, CheckpointLoadWeightsRestoresOptimizerIntoCompiledModel) {
  ScratchDir dir;
  const Subset& d = data();
  auto original = make_model(1, false);
  original->fit(d.x, d.y, fit_options(1));
  ASSERT_EQ(original->optimizer()->iterations_value(), 12);
  original->save_weights(dir.path("ckpt"));
  BundleReader r(dir.path("ckpt"));
  EXPECT_EQ(r.read("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE").item<int64_t>(), 12);
  EXPECT_TRUE(r.contains("layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"));

  auto fresh = make_model(2, false);  // other initial weights, no slots yet
  EXPECT_FALSE(fresh->get_weights()[0].equal(original->get_weights()[0]));
  const LoadWeightsResult res = fresh->load_weights(dir.path("ckpt"));
  EXPECT_EQ(res.weights_loaded, 4u);
  EXPECT_GE(res.other_values_loaded, 1u + 4u * 2u);  // iterations and the m, v slots at least
  EXPECT_EQ(fresh->optimizer()->iterations_value(), 12);

  // One more step on the same batch: bitwise the same weights and slots.
  original->train_on_batch(rows(d.x, 0, 32), rows(d.y, 0, 32));
  fresh->train_on_batch(rows(d.x, 0, 32), rows(d.y, 0, 32));
  expect_same_training_state(*original, *fresh);
}

TEST_F(OneThread, CheckpointIntoUncompiledModelRestoresOptimizerWhenCompiled) {
  ScratchDir dir;
  const Subset& d = data();
  auto original = make_model(1, false);
  original->fit(d.x, d.y, fit_options(1));
  original->save_weights(dir.path("ckpt"));

  auto fresh = make_model(2, false, /*compile=*/false);
  EXPECT_EQ(fresh->load_weights(dir.path("ckpt")).weights_loaded, 4u);
  EXPECT_TRUE(fresh->get_weights()[0].equal(original->get_weights()[0]));
  // The optimizer's values wait on the model until compile() tracks an optimizer (tf.keras's deferred restore).
  fresh->compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  EXPECT_EQ(fresh->optimizer()->iterations_value(), 12);
  original->train_on_batch(rows(d.x, 32, 64), rows(d.y, 32, 64));
  fresh->train_on_batch(rows(d.x, 32, 64), rows(d.y, 32, 64));
  expect_same_training_state(*original, *fresh);
}

TEST_F(OneThread, CheckpointOfUncompiledModelLoadsIntoCompiledOne) {
  ScratchDir dir;
  auto plain = make_model(1, false, /*compile=*/false);
  plain->save_weights(dir.path("ckpt"));
  auto compiled = make_model(2, false);
  const auto res = compiled->load_weights(dir.path("ckpt"));
  EXPECT_EQ(res.weights_loaded, 4u);
  EXPECT_EQ(res.other_values_loaded, 0u);
  EXPECT_EQ(compiled->optimizer()->iterations_value(), 0);
  EXPECT_TRUE(compiled->get_weights()[2].equal(plain->get_weights()[2]));
}

// save at epoch k + load_model + fit(initial_epoch=k) == K epochs straight, in both formats.
void expect_save_load_resumes_bitwise(bool dropout) {
  constexpr int k = 1, K = 3;
  const Subset& d = data();
  auto straight = make_model(3, dropout);
  straight->fit(d.x, d.y, fit_options(K));

  auto first = make_model(3, dropout);
  first->fit(d.x, d.y, fit_options(k));
  ScratchDir dir;
  for (const std::string name : {"model.h5", "model_dir"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.path(name);
    first->save(path);
    std::shared_ptr<Model> loaded;
    {
      backend::NameScope names;
      loaded = load_model(path);
    }
    ASSERT_TRUE(loaded->compiled());
    EXPECT_EQ(loaded->optimizer()->class_name(), "Adam");
    EXPECT_EQ(loaded->metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
    {
      SCOPED_TRACE("as saved");
      expect_same_training_state(*first, *loaded);
    }
    auto history = loaded->fit(d.x, d.y, fit_options(K, k));
    EXPECT_EQ(history->epoch(), (std::vector<int>{1, 2}));
    SCOPED_TRACE("after resuming");
    expect_same_training_state(*straight, *loaded);
  }
}

TEST_F(OneThread, SaveLoadModelResumesBitwise) { expect_save_load_resumes_bitwise(false); }

// Dropout's generator (checkpoint child "_random_generator") goes with the model: the masks continue.
TEST_F(OneThread, SaveLoadModelResumesBitwiseWithDropout) { expect_save_load_resumes_bitwise(true); }

TEST_F(OneThread, H5FullModelHoldsKerasTrainingConfigAndOptimizerWeights) {
  const Subset& d = data();
  auto model = make_model(4, true);
  model->fit(d.x, d.y, fit_options(1));
  ScratchDir dir;
  model->save(dir.path("m.h5"));
  const KerasH5File f = read_keras_h5(dir.path("m.h5"));
  ASSERT_TRUE(f.training_config.has_value());
  // Keras 2.4's key order and values (saving_utils.model_metadata).
  const auto tc = nlohmann::ordered_json::parse(*f.training_config);
  std::vector<std::string> keys;
  for (const auto& item : tc.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "metrics", "weighted_metrics", "loss_weights", "optimizer_config"}));
  EXPECT_EQ(tc["loss"], "sparse_categorical_crossentropy");
  EXPECT_EQ(tc["metrics"], nlohmann::ordered_json::array({"accuracy"}));
  EXPECT_TRUE(tc["weighted_metrics"].is_null());
  EXPECT_EQ(tc["optimizer_config"]["class_name"], "Adam");
  EXPECT_EQ(tc["optimizer_config"]["config"]["name"], "Adam");
  // tf.keras 2.4's /optimizer_weights: iterations, every m, every v.
  std::vector<std::string> names;
  for (const auto& w : f.optimizer_weights) names.push_back(w.first);
  EXPECT_EQ(names, (std::vector<std::string>{"Adam/iter:0", "Adam/hidden/kernel/m:0", "Adam/hidden/bias/m:0",
                                             "Adam/out/kernel/m:0", "Adam/out/bias/m:0", "Adam/hidden/kernel/v:0",
                                             "Adam/hidden/bias/v:0", "Adam/out/kernel/v:0", "Adam/out/bias/v:0"}));
  EXPECT_EQ(f.optimizer_weights[0].second.item<int64_t>(), 12);
  const Variable v = model->optimizer()->get_slot(model->trainable_weights()[2], "v");
  EXPECT_TRUE(f.optimizer_weights[7].second.equal(v.value()));
  // The Dropout generator's state in keel's own group.
  ASSERT_EQ(f.keel_state.size(), 1u);
  EXPECT_EQ(f.keel_state[0].first, "layer-1.S_random_generator");
  EXPECT_EQ(f.keel_state[0].second.dtype(), DType::u8);
}

TEST_F(OneThread, H5OptimizerWeightMismatchNamesWeightShapesAndFile) {
  const Subset& d = data();
  auto model = make_model(5, false);
  model->fit(d.x, d.y, fit_options(1));
  ScratchDir dir;
  const std::string path = dir.path("m.h5");
  model->save(path);
  KerasH5File f = read_keras_h5(path);
  ASSERT_EQ(f.optimizer_weights[3].first, "Adam/out/kernel/m:0");
  f.optimizer_weights[3].second = Tensor::zeros({32, 9});
  write_keras_h5_model(path, f);
  try {
    load_model(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_model: optimizer weight 'Adam/out/kernel/m:0' (slot 'm' of 'out/kernel'): "
                                     "model has [32,10] f32, file has [32,9] f32 (file " + path + ")");
  }
  f.optimizer_weights[3].second = Tensor::zeros({32, 10});
  f.optimizer_weights[3].first = "Adam/nowhere/kernel/m:0";
  write_keras_h5_model(path, f);
  EXPECT_THROW(load_model(path), Error);
}

TEST(KerasCheckpointWeights, ShapeMismatchNamesLayerWeightShapesAndCheckpoint) {
  ScratchDir dir;
  auto dense = [](int64_t units) {
    backend::NameScope names;
    return std::make_shared<Sequential>(
        std::vector<LayerArg>{layers::Dense(DenseOptions(units).input_shape({5}).name("hidden"))});
  };
  dense(4)->save_weights(dir.path("ckpt"));
  auto other = dense(3);
  const Tensor before = other->get_weights()[0].clone();
  try {
    other->load_weights(dir.path("ckpt"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: layer 'hidden' weight 'kernel' ('layer_with_weights-0/kernel'): "
                                     "model has [5,3] f32, file has [5,4] f32 (checkpoint " + dir.path("ckpt") + ")");
  }
  EXPECT_TRUE(other->get_weights()[0].equal(before));  // nothing assigned
}

}  // namespace
}  // namespace keel::keras
