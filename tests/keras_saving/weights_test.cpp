// save_weights / load_weights: real Keras weight files, round trips, and the exact mismatch errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/weights.h"
#include "keel/keras/sequential.h"
#include "../keras_h5/h5_test_util.h"
#include "reference.h"

namespace keel::keras {
namespace {

using test::ScratchDir;

std::string weights_fixture(const std::string& name) {
  return std::string(KEEL_SHARED_DIR) + "/fixtures/keras_h5/weights/" + name;
}

Tensor to_tensor(const test::RefTensor& r) {
  std::vector<float> v(r.v.begin(), r.v.end());
  return Tensor::from_vector<float>(v, Shape(r.shape.begin(), r.shape.end()));
}

void expect_matches_reference(Model& model, const nlohmann::json& config, const KerasH5File& f,
                              std::vector<int64_t> input_shape) {
  const auto x = test::test_input(input_shape);
  const auto want = test::reference_forward(config, f, x);
  const Tensor got = model(to_tensor(x));
  ASSERT_EQ(std::vector<int64_t>(got.shape().begin(), got.shape().end()), want.shape);
  const float* g = got.data<float>();
  for (size_t i = 0; i < want.v.size(); ++i) {
    ASSERT_NEAR(g[i], want.v[i], 1e-5 * std::max(1.0, std::fabs(want.v[i]))) << "element " << i;
  }
}

struct WeightsCase {
  const char* stem;
  std::vector<int64_t> input;
};

TEST(KerasWeightsFixtures, RealKerasWeightFilesLoadIntoModelsFromTheirJson) {
  for (const WeightsCase& c : {WeightsCase{"KERAS_1layer", {3, 10}}, WeightsCase{"KERAS_3layer", {4, 16}},
                               WeightsCase{"KERAS_conv2d_model", {2, 8, 8, 1}}}) {
    SCOPED_TRACE(c.stem);
    const std::string json = test::read_text(weights_fixture(std::string(c.stem) + ".json"));
    auto model = model_from_json(json);
    const std::string file = weights_fixture(std::string(c.stem) + "_weights.h5");
    const auto r = load_weights(*model, file);
    EXPECT_TRUE(r.h5);
    EXPECT_TRUE(r.skipped.empty());
    EXPECT_EQ(r.weights_loaded, model->weights().size());
    expect_matches_reference(*model, nlohmann::json::parse(json), read_keras_h5(file), c.input);
  }
}

TEST(KerasWeightsFixtures, FullModelFilesRebuildFromModelConfigAndLoadModelWeights) {
  for (const WeightsCase& c : {WeightsCase{"tf24_mnist_dnn.h5", {3, 784}}, WeightsCase{"tf215_iris_dnn.h5", {5, 4}}}) {
    SCOPED_TRACE(c.stem);
    const KerasH5File f = read_keras_h5(test::keras_fixture(c.stem));
    ASSERT_TRUE(f.model_config.has_value());
    auto model = model_from_json(*f.model_config);
    const auto r = load_h5_layers(*model, f.layers, c.stem, {});
    EXPECT_EQ(r.weights_loaded, model->weights().size());
    expect_matches_reference(*model, nlohmann::json::parse(*f.model_config), f, c.input);
  }
}

TEST(KerasWeightsFixtures, GruFileNamesTheUnsupportedClass) {
  const KerasH5File f = read_keras_h5(test::keras_fixture("tf21_gru_known_weights.h5"));
  ASSERT_TRUE(f.model_config.has_value());
  try {
    model_from_json(*f.model_config);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Unknown layer: 'GRU'"), std::string::npos) << e.what();
  }
}

std::shared_ptr<Sequential> mlp(int64_t hidden, const std::string& name_a = "", const std::string& name_b = "") {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(DenseOptions(hidden).activation("relu").input_shape({6}).name(name_a)),
      layers::Dense(DenseOptions(3).name(name_b))});
  return m;
}

Tensor batch() { return to_tensor(test::test_input({4, 6})); }

TEST(KerasWeights, H5RoundTripIsBitExact) {
  ScratchDir dir;
  auto a = mlp(5), b = mlp(5);
  save_weights(*a, dir.path("w.h5"));
  const KerasH5File f = read_keras_h5(dir.path("w.h5"));
  ASSERT_EQ(f.layers.size(), 2u);
  EXPECT_EQ(f.layers[0].layer_name, a->layers()[0]->name());
  EXPECT_EQ(f.layers[0].weights[0].first, a->layers()[0]->name() + "/kernel:0");
  EXPECT_FALSE(a->get_weights()[0].equal(b->get_weights()[0]));
  load_weights(*b, dir.path("w.h5"));
  EXPECT_TRUE((*a)(batch()).equal((*b)(batch())));
}

TEST(KerasWeights, CheckpointRoundTripWritesKerasKeysAndStateFile) {
  ScratchDir dir;
  auto a = mlp(5), b = mlp(5);
  const std::string prefix = dir.path("weights");
  save_weights(*a, prefix);
  BundleReader r(prefix);
  EXPECT_TRUE(r.contains("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
  EXPECT_TRUE(r.contains("layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE"));
  EXPECT_EQ(latest_checkpoint(dir.dir()), prefix);
  const auto state = read_checkpoint_state(dir.dir());
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->all_model_checkpoint_paths, std::vector<std::string>{"weights"});
  const auto res = load_weights(*b, prefix);
  EXPECT_EQ(res.weights_loaded, 4u);
  EXPECT_TRUE((*a)(batch()).equal((*b)(batch())));
}

TEST(KerasWeights, ShapeMismatchNamesLayerWeightAndBothShapesAndAssignsNothing) {
  ScratchDir dir;
  auto a = mlp(5, "d0", "d1"), b = mlp(7, "d0", "d1");
  save_weights(*a, dir.path("w.h5"));
  const Tensor before = b->layers()[0]->get_weights()[0].clone();
  try {
    load_weights(*b, dir.path("w.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: layer 'd0' weight 'kernel': model has [6,7] f32, file has [6,5] f32 "
                                     "(file " + dir.path("w.h5") + ")");
  }
  EXPECT_TRUE(b->layers()[0]->get_weights()[0].equal(before));
}

TEST(KerasWeights, CheckpointShapeMismatchAssignsNothing) {
  ScratchDir dir;
  auto a = mlp(5), b = mlp(7);
  save_weights(*a, dir.path("ck"));
  const Tensor before = b->layers()[1]->get_weights()[0].clone();
  try {
    load_weights(*b, dir.path("ck"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model has [6,7] f32, file has [6,5] f32"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(b->layers()[1]->get_weights()[0].equal(before));
}

TEST(KerasWeights, LayerCountMismatchIsAnError) {
  ScratchDir dir;
  auto a = mlp(5);
  save_weights(*a, dir.path("w.h5"));
  Sequential one({layers::Dense(DenseOptions(3).input_shape({6}))});
  try {
    load_weights(one, dir.path("w.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: the model '" + one.name() +
                                         "' has 1 layers with weights [" + one.layers()[0]->name() + "], the file has 2 [" +
                                         a->layers()[0]->name() + ", " + a->layers()[1]->name() + "] (file " +
                                         dir.path("w.h5") + ")");
  }
}

TEST(KerasWeights, ByNameMatchesNamesAndSkipMismatchReportsWhatItSkipped) {
  ScratchDir dir;
  auto a = mlp(5, "x0", "x1");
  save_weights(*a, dir.path("w.h5"));
  // Same names in another order of definition, one with another shape.
  auto b = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(DenseOptions(5).activation("relu").input_shape({6}).name("x0")),
      layers::Dense(DenseOptions(4).name("x1"))});
  EXPECT_THROW(load_weights(*b, dir.path("w.h5"), LoadWeightsOptions{true, false}), Error);
  const auto r = load_weights(*b, dir.path("w.h5"), LoadWeightsOptions{true, true});
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0], "load_weights: layer 'x1' weight 'kernel': model has [5,4] f32, file has [5,3] f32 (file " +
                              dir.path("w.h5") + ")");
  EXPECT_EQ(r.weights_loaded, 2u);
  EXPECT_TRUE(b->layers()[0]->get_weights()[0].equal(a->layers()[0]->get_weights()[0]));
  EXPECT_THROW(load_weights(*b, dir.path("w.h5"), LoadWeightsOptions{false, true}), Error);
}


TEST(KerasWeights, DtypeAndWeightCountMismatchesAreErrors) {
  ScratchDir dir;
  auto a = mlp(5, "e0", "e1");
  KerasH5File f;
  f.layers = model_h5_layers(*a);
  f.layers[1].weights[1].second = f.layers[1].weights[1].second.to(DType::f64);
  write_keras_h5_weights(dir.path("f64.h5"), f);
  try {
    load_weights(*a, dir.path("f64.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: layer 'e1' weight 'bias': model has [3] f32, file has [3] f64 (file " +
                                         dir.path("f64.h5") + ")");
  }
  f.layers = model_h5_layers(*a);
  f.layers[0].weights.pop_back();
  write_keras_h5_weights(dir.path("short.h5"), f);
  try {
    load_weights(*a, dir.path("short.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: layer 'e0' has 2 weights [kernel, bias], file layer 'e0' has 1 [e0/kernel:0] (file " +
                                         dir.path("short.h5") + ")");
  }
}

// Both formats create the directory they save into (the .h5 path reported HDF5's error on its temporary).
TEST(KerasWeights, SavesCreateTheirDirectoryInBothFormats) {
  ScratchDir dir;
  Sequential a({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(2)});
  Sequential b({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(2)});
  save_weights(a, dir.path("new/sub/w.h5"));
  save_weights(a, dir.path("other/sub/ck"));
  EXPECT_EQ(load_weights(b, dir.path("new/sub/w.h5")).weights_loaded, 4u);
  EXPECT_EQ(load_weights(b, dir.path("other/sub/ck")).weights_loaded, 4u);
  EXPECT_TRUE(a(batch()).equal(b(batch())));
  std::ofstream(dir.path("file")) << "x";
  try {
    save_weights(a, dir.path("file/w.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("atomic write: cannot create directory " + dir.path("file") + " for " +
                                              dir.path("file/w.h5") + ": ", 0), 0u) << e.what();
  }
}

TEST(KerasWeights, ModelsNotOwnedBySharedPtrAndUnbuiltModels) {
  ScratchDir dir;
  Sequential a({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(2)});
  Sequential b({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(2)});
  save_weights(a, dir.path("ck"));
  EXPECT_EQ(load_weights(b, dir.path("ck")).weights_loaded, 4u);
  EXPECT_TRUE(a(batch()).equal(b(batch())));
  save_weights(a, dir.path("w.h5"));
  Sequential unbuilt({layers::Dense(4), layers::Dense(2)});
  try {
    load_weights(unbuilt, dir.path("w.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not built"), std::string::npos) << e.what();
  }
  // By name, the layer that is not built is named (it used to be "has 0 weights []").
  const std::string first = a.layers()[0]->name(), second = a.layers()[1]->name();
  Sequential named({layers::Dense(DenseOptions(4).name(first)), layers::Dense(DenseOptions(2).name(second))});
  LoadWeightsOptions by_name;
  by_name.by_name = true;
  try {
    load_weights(named, dir.path("w.h5"), by_name);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_weights: layer '" + first + "' is not built, so it has no weights yet for "
              "file layer '" + first + "' [" + first + "/kernel:0, " + first + "/bias:0] (build the model or call it "
              "once before loading weights) (file " + dir.path("w.h5") + ")");
  }
  // A checkpoint waits for the weights of an unbuilt model, as in tf.keras, and fills them as it builds.
  const LoadWeightsResult r = load_weights(unbuilt, dir.path("ck"));
  EXPECT_TRUE(r.deferred);
  EXPECT_EQ(r.weights_loaded, 0u);
  EXPECT_TRUE(a(batch()).equal(unbuilt(batch())));
  const auto wa = a.get_weights(), wu = unbuilt.get_weights();
  ASSERT_EQ(wu.size(), 4u);
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].equal(wu[i])) << i;
  // Shapes are still checked, when the weights are made.
  Sequential other({layers::Dense(5), layers::Dense(2)});
  EXPECT_TRUE(load_weights(other, dir.path("ck")).deferred);
  try {
    other(batch());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("variable has [6,5] f32, checkpoint has [6,4] f32"), std::string::npos)
        << e.what();
  }
}

// A Sequential whose first layer is a model is built from that model's input; in HDF5 the nested
// model's weights are in Keras's _legacy_weights order (all trainable, then all non-trainable), not
// Model::weights()'s layer-by-layer order.
TEST(KerasWeights, H5NestedModelUsesKerasLegacyWeightOrder) {
  ScratchDir dir;
  auto inner = std::make_shared<Sequential>(
      std::vector<LayerArg>{layers::Dense(DenseOptions(4).input_shape({6})), layers::BatchNormalization(),
                            layers::Dense(3)},
      "inner");
  Sequential outer({LayerArg(inner), layers::Dense(2)}, "outer");
  // Built at construction from the nested model's input, as Keras's Sequential does.
  EXPECT_TRUE(outer.built());
  EXPECT_EQ(outer.count_params(), 28 + 16 + 15 + 8);
  save_weights(outer, dir.path("w.h5"));
  const KerasH5File f = read_keras_h5(dir.path("w.h5"));
  ASSERT_EQ(f.layers.size(), 2u);
  std::vector<std::string> names;
  for (const auto& w : f.layers[0].weights) names.push_back(w.first.substr(w.first.find('/') + 1));
  EXPECT_EQ(names, (std::vector<std::string>{"kernel:0", "bias:0", "gamma:0", "beta:0", "kernel:0", "bias:0",
                                             "moving_mean:0", "moving_variance:0"}));
  Sequential again({LayerArg(std::make_shared<Sequential>(
                        std::vector<LayerArg>{layers::Dense(DenseOptions(4).input_shape({6})),
                                              layers::BatchNormalization(), layers::Dense(3)},
                        "inner")),
                    layers::Dense(2)},
                   "outer");
  EXPECT_EQ(load_weights(again, dir.path("w.h5")).weights_loaded, 10u);
  const auto wa = outer.get_weights(), wb = again.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].equal(wb[i])) << i;
}

// Stored layers the model does not have are reported (tf.keras logs them), not silently dropped.
TEST(KerasWeights, CheckpointLayersTheModelLacksAreReported) {
  ScratchDir dir;
  Sequential three({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(3), layers::Dense(2)});
  Sequential two({layers::Dense(DenseOptions(4).input_shape({6})), layers::Dense(3)});
  save_weights(three, dir.path("ck"));
  const LoadWeightsResult r = load_weights(two, dir.path("ck"));
  EXPECT_EQ(r.weights_loaded, 4u);
  const std::string m = "' matches nothing in model '" + two.name() + "'";
  EXPECT_EQ(r.skipped, (std::vector<std::string>{
                           "checkpoint value 'layer_with_weights-2/bias/.ATTRIBUTES/VARIABLE_VALUE" + m,
                           "checkpoint value 'layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE" + m}));
  EXPECT_TRUE(load_weights(three, dir.path("ck")).skipped.empty());
}

}  // namespace
}  // namespace keel::keras
