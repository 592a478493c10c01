// load_model on files whose parts disagree or whose JSON is built to crash the reader: errors naming the
// file, never a silent partial load or a stack overflow.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "keel/graph/error.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/save_model.h"
#include "../keras_h5/h5_test_util.h"
#include "error_of.h"

namespace keel::keras {
namespace {

using test::ScratchDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::shared_ptr<Model> three_dense() {
  return std::make_shared<Sequential>(
      std::vector<LayerArg>{layers::Dense(DenseOptions(4).name("a").input_shape({4})),
                            layers::Dense(DenseOptions(4).name("b")), layers::Dense(DenseOptions(4).name("c"))},
      "three");
}

}  // namespace

// The config of saved_model.pb lost its last layer; the variables still hold that layer's weights. The
// HDF5 path refuses such a file (layer counts differ); the directory path loaded the first two layers
// and dropped the third's weights without a word.
TEST(KerasHostileFiles, DirectoryWhoseVariablesHoldLayersTheConfigLacksIsAnError) {
  ScratchDir dir;
  const std::string path = dir.path("m");
  save_model(*three_dense(), path);
  const std::string pb = path + "/saved_model.pb";
  SavedModelProto m = parse_saved_model(read_bytes(pb), pb);
  nlohmann::json config = nlohmann::json::parse(m.model_config);
  config["config"]["layers"].erase(config["config"]["layers"].size() - 1);
  m.model_config = config.dump();
  write_bytes(pb, serialize_saved_model(m));
  const std::string k = "layer_with_weights-2/";
  EXPECT_EQ(test::error_of([&] { load_model(path); }),
            "load_model: " + path + "/variables/variables holds 2 layer value(s) that match nothing in the model "
            "'three' of " + pb + ", first '" + k + "bias/.ATTRIBUTES/VARIABLE_VALUE' (all: " + k +
            "bias/.ATTRIBUTES/VARIABLE_VALUE, " + k + "kernel/.ATTRIBUTES/VARIABLE_VALUE)");
}

// A training_config of 300,000 nested brackets crashed load_model: the error message dumped the value
// recursively.
TEST(KerasHostileFiles, DeeplyNestedTrainingConfigIsAnError) {
  ScratchDir dir;
  auto model = three_dense();
  model->compile(CompileOptions().optimizer("adam").loss("mse"));
  const std::string h5 = dir.path("m.h5");
  save_model(*model, h5);
  KerasH5File f = read_keras_h5(h5);
  const size_t at = f.training_config->find("\"loss\": ");
  ASSERT_NE(at, std::string::npos) << *f.training_config;
  f.training_config->insert(at + 8, std::string(300000, '[') + "\"mse\"" + std::string(300000, ']') + ", \"x\": ");
  write_keras_h5_model(h5, f);
  const std::string e = test::error_of([&] { load_model(h5); });
  EXPECT_EQ(e.rfind("load_model: training_config of " + h5 + ": JSON nests deeper than 512 levels (at byte ", 0), 0u)
      << e.substr(0, 300);
}

// An .h5 whose optimizer_weights lost one slot (or the iteration count) restored the rest and left that
// slot fresh: training resumed from a mixed optimizer state without a word.
TEST(KerasHostileFiles, PartialOptimizerStateInAnH5IsAnError) {
  ScratchDir dir;
  auto model = three_dense();
  model->compile(CompileOptions().optimizer("adam").loss("mse"));
  const Tensor x = Tensor::full({8, 4}, 0.5f), y = Tensor::full({8, 4}, 0.25f);
  model->fit(x, y, FitOptions().epochs(1).verbose(0));
  const std::string h5 = dir.path("m.h5");
  save_model(*model, h5);
  const KerasH5File saved = read_keras_h5(h5);
  std::vector<std::string> names;
  for (const auto& w : saved.optimizer_weights) names.push_back(w.first);
  ASSERT_EQ(names.size(), 13u);  // iterations, then the six variables' m, then their v
  ASSERT_EQ(names.front(), "Adam/iter:0");
  ASSERT_EQ(names.back(), "Adam/c/bias/v:0");
  EXPECT_NO_THROW(load_model(h5));

  KerasH5File f = saved;
  f.optimizer_weights.pop_back();
  write_keras_h5_model(h5, f);
  EXPECT_EQ(test::error_of([&] { load_model(h5); }),
            "load_model: optimizer_weights of " + h5 + " hold slot 'm' of 'c/bias' but not 'v': Adam 'Adam' keeps "
            "every one of its slots for a variable it updates, and restoring part of them would resume from a "
            "mixed state");

  f = saved;
  f.optimizer_weights.erase(f.optimizer_weights.begin());
  write_keras_h5_model(h5, f);
  EXPECT_EQ(test::error_of([&] { load_model(h5); }),
            "load_model: optimizer_weights of " + h5 + " hold slots (of 'a/bias', ...) but no iteration count for "
            "Adam 'Adam'");

  // All slots of one variable left out is what keel writes for a variable that never had a gradient.
  f = saved;
  auto& w = f.optimizer_weights;
  w.erase(std::remove_if(w.begin(), w.end(), [](const auto& e) { return e.first.rfind("Adam/c/bias/", 0) == 0; }),
          w.end());
  ASSERT_EQ(f.optimizer_weights.size(), 11u);
  write_keras_h5_model(h5, f);
  EXPECT_NO_THROW(load_model(h5));
}

}  // namespace keel::keras
