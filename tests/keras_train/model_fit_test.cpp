// keras::Model's compile/fit/evaluate/predict on a small subset of Fashion-MNIST, and a compiled
// model in a checkpoint (Keras 2's keys) resumed bitwise.
#include <gtest/gtest.h>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/model.h"
#include "keel/keras/sequential.h"
#include "fashion_subset.h"

using namespace keel;
using namespace keel::keras;

namespace {

using Subset = keel::testing::FashionSubset;
const Subset& data() { return keel::testing::fashion_subset(3000, 1000); }

std::shared_ptr<Sequential> mlp() {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(64).activation("relu").input_shape({784}).kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(1))),
      layers::Dense(layers::DenseOptions(10).kernel_initializer(std::make_shared<initializers::GlorotUniform>(2)))});
  m->compile(CompileOptions()
                 .optimizer("adam")
                 .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                 .metrics({"accuracy"}));
  return m;
}

}  // namespace

TEST(ModelFit, LearnsFashionMnistSubset) {
  const Subset& d = data();
  auto model = mlp();
  EXPECT_EQ(model->metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  auto history = model->fit(d.x_train, d.y_train, FitOptions().epochs(2).validation_split(0.1).seed(1).verbose(0));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"}));
  EXPECT_EQ(history->epoch(), (std::vector<int>{0, 1}));
  const auto& loss = history->at("loss");
  EXPECT_LT(loss[1], loss[0]);
  EXPECT_GT(history->at("accuracy")[1], 0.75);
  EXPECT_GT(history->at("val_accuracy")[1], 0.7);
  // 2700 training samples in batches of 32: 85 steps per epoch.
  EXPECT_EQ(model->optimizer()->iterations_value(), 2 * 85);
  Logs scores = model->evaluate(d.x_test, d.y_test, EvaluateOptions().verbose(0));
  EXPECT_GT(scores.at("accuracy"), 0.7);
  Tensor logits = model->predict(d.x_test);
  ASSERT_EQ(logits.shape(), (Shape{1000, 10}));
  SparseCategoricalAccuracy acc;
  acc.update_state(d.y_test, logits);
  EXPECT_DOUBLE_EQ(acc.result(), scores.at("accuracy"));
}

TEST(ModelFit, CompiledModelCheckpointsWithKerasKeysAndResumesBitwise) {
  const Subset& d = data();
  keel::testing::TempDir dir;
  auto straight = mlp();
  straight->fit(d.x_train, d.y_train, FitOptions().epochs(2).seed(3).verbose(0));

  auto first = mlp();
  first->fit(d.x_train, d.y_train, FitOptions().epochs(1).seed(3).verbose(0));
  Checkpoint ckpt({{"model", first}});
  const std::string path = ckpt.save(dir / "ckpt");
  BundleReader r(path);
  EXPECT_EQ(r.read("model/optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE").item<int64_t>(), 94);
  EXPECT_EQ(r.read("model/keras_api/metrics/0/count/.ATTRIBUTES/VARIABLE_VALUE").item<float>(), 3000.0f);
  EXPECT_EQ(r.read("model/keras_api/metrics/1/count/.ATTRIBUTES/VARIABLE_VALUE").item<float>(), 3000.0f);
  EXPECT_EQ(r.read("model/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/model/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE")
                .shape(),
            (Shape{784, 64}));

  auto resumed = mlp();
  Checkpoint ckpt2({{"model", resumed}});
  ckpt2.restore(path).assert_consumed();
  resumed->fit(d.x_train, d.y_train, FitOptions().epochs(2).initial_epoch(1).seed(3).verbose(0));
  const auto a = straight->weights(), b = resumed->weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].value().equal(b[i].value())) << a[i].name();
}

TEST(ModelFit, UncompiledModelPredictsButDoesNotFit) {
  Sequential model({layers::Dense(layers::DenseOptions(3).input_shape({4}))});
  EXPECT_EQ(model.predict(Tensor::zeros({5, 4})).shape(), (Shape{5, 3}));
  try {
    model.fit(Tensor::zeros({5, 4}), Tensor::zeros({5, 3}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fit: you must compile the model before training/testing (call compile first)");
  }
}
