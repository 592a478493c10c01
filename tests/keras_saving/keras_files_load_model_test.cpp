// load_model on real tf.keras files: compiled from their training_config, optimizer weights restored
// in both naming schemes (tf.keras 2.4 "Adam/iter:0", "Adam/dense/kernel/m:0"; 2.15 "iteration:0",
// "Adam/m/dense/kernel:0"), and training continues.
#include <gtest/gtest.h>

#include "keel/graph/error.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/save_model.h"
#include "../keras_h5/h5_test_util.h"

namespace keel::keras {
namespace {

const Tensor& stored(const KerasH5File& f, const std::string& name) {
  for (const auto& w : f.optimizer_weights) {
    if (w.first == name) return w.second;
  }
  throw Error("no optimizer weight " + name);
}

Variable weight(const Model& m, const std::string& name) {
  for (const Variable& v : m.trainable_weights()) {
    if (v.name() == name) return v;
  }
  throw Error("no weight " + name);
}

// One-hot targets for `n` samples of `classes` classes, and inputs of `features` values.
std::pair<Tensor, Tensor> toy_batch(int64_t n, int64_t features, int64_t classes) {
  Tensor x = Tensor::zeros({n, features});
  Tensor y = Tensor::zeros({n, classes});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < features; ++j) x.data<float>()[i * features + j] = static_cast<float>((i + j) % 5) / 5.0f;
    y.data<float>()[i * classes + i % classes] = 1.0f;
  }
  return {x, y};
}

struct FileCase {
  const char* file;
  int64_t iterations;    // documented in ../shared/fixtures/README.md and checked by tests/keras_h5
  const char* slot_name;  // one stored slot and the keel slot / variable it must land in
  const char* slot;
  const char* variable;
  const char* optimizer_class;  // as the training_config names it
  int64_t features, classes;
};

TEST(KerasFilesLoadModel, RealFilesCompileAndRestoreOptimizerWeights) {
  const FileCase cases[] = {
      {"tf24_mnist_dnn.h5", 6000, "Adam/dense_1/kernel/v:0", "v", "dense_1/kernel", "Adam", 784, 10},
      {"tf215_iris_dnn.h5", 8000, "Adam/m/dense_2/kernel:0", "m", "dense_2/kernel", "Custom>Adam", 4, 3}};
  for (const FileCase& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = test::keras_fixture(c.file);
    const KerasH5File f = read_keras_h5(path);
    std::shared_ptr<Model> model;
    {
      backend::NameScope names;
      model = load_model(path);
    }
    ASSERT_TRUE(model->compiled());
    EXPECT_EQ(model->optimizer()->class_name(), "Adam");
    EXPECT_EQ(model->optimizer()->iterations_value(), c.iterations);
    const Variable slot = model->optimizer()->get_slot(weight(*model, c.variable), c.slot);
    ASSERT_TRUE(slot.defined());
    EXPECT_TRUE(slot.value().equal(stored(f, c.slot_name)));
    // Every stored slot was restored: 2 per trainable weight.
    EXPECT_EQ(f.optimizer_weights.size(), 1 + 2 * model->trainable_weights().size());
    EXPECT_EQ(model->metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));

    // Training continues from there: one step counts on from the file's iterations.
    const auto [x, y] = toy_batch(6, c.features, c.classes);
    const Tensor before = weight(*model, c.variable).value().clone();
    model->train_on_batch(x, y);
    EXPECT_EQ(model->optimizer()->iterations_value(), c.iterations + 1);
    EXPECT_FALSE(weight(*model, c.variable).value().equal(before));
  }
}

TEST(KerasFilesLoadModel, GruFileNamesTheUnsupportedClass) {
  try {
    load_model(test::keras_fixture("tf21_gru_known_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Unknown layer: 'GRU'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace keel::keras
