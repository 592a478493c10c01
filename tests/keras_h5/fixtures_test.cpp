// Reading real Keras HDF5 files (../shared/fixtures/keras_h5), checked against what their writers put in.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

#include "h5_test_util.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/h5/optimizer_names.h"

using namespace keel;
using keel::test::keras_fixture;
using json = nlohmann::json;

namespace {

std::vector<std::string> layer_names(const KerasH5File& f) {
  std::vector<std::string> out;
  for (const auto& l : f.layers) out.push_back(l.layer_name);
  return out;
}

// "name -> shape" for every weight of every layer.
std::map<std::string, Shape> weight_shapes(const KerasH5File& f) {
  std::map<std::string, Shape> out;
  for (const auto& l : f.layers) {
    for (const auto& [name, t] : l.weights) out[name] = t.shape();
  }
  return out;
}

std::vector<std::string> config_classes(const std::string& model_config) {
  const json j = json::parse(model_config);
  std::vector<std::string> out;
  for (const json& l : j.at("config").at("layers")) out.push_back(l.at("class_name"));
  return out;
}

}  // namespace

TEST(KerasH5Fixtures, Tf24MnistDnnLayersAndConfig) {
  const KerasH5File f = read_keras_h5(keras_fixture("tf24_mnist_dnn.h5"));
  EXPECT_EQ(f.layout, KerasH5Layout::full_model);
  EXPECT_EQ(f.keras_version, "2.4.0");
  EXPECT_EQ(f.backend, "tensorflow");
  EXPECT_EQ(layer_names(f), (std::vector<std::string>{"dense", "layer_normalization", "dense_1",
                                                      "layer_normalization_1", "dense_2"}));
  const std::map<std::string, Shape> expected = {
      {"dense/kernel:0", {784, 16}}, {"dense/bias:0", {16}},
      {"layer_normalization/gamma:0", {16}}, {"layer_normalization/beta:0", {16}},
      {"dense_1/kernel:0", {16, 16}}, {"dense_1/bias:0", {16}},
      {"layer_normalization_1/gamma:0", {16}}, {"layer_normalization_1/beta:0", {16}},
      {"dense_2/kernel:0", {16, 10}}, {"dense_2/bias:0", {10}}};
  EXPECT_EQ(weight_shapes(f), expected);
  EXPECT_EQ(f.layers[1].weights[0].first, "layer_normalization/gamma:0");  // weight_names order
  EXPECT_EQ(f.layers[0].weights[0].second.dtype(), DType::f32);
  EXPECT_FALSE(f.top_level_weights.has_value());

  ASSERT_TRUE(f.model_config.has_value());
  EXPECT_EQ(json::parse(*f.model_config).at("class_name"), "Sequential");
  EXPECT_EQ(config_classes(*f.model_config),
            (std::vector<std::string>{"InputLayer", "Dense", "LayerNormalization", "Dense", "LayerNormalization",
                                      "Dense"}));
  ASSERT_TRUE(f.training_config.has_value());
  const json tc = json::parse(*f.training_config);
  EXPECT_EQ(tc.at("loss"), "categorical_crossentropy");
  EXPECT_EQ(tc.at("optimizer_config").at("class_name"), "Adam");
}

TEST(KerasH5Fixtures, Tf24MnistDnnLegacyOptimizerNames) {
  const KerasH5File f = read_keras_h5(keras_fixture("tf24_mnist_dnn.h5"));
  ASSERT_EQ(f.optimizer_weights.size(), 21u);
  EXPECT_EQ(f.optimizer_weights[0].first, "Adam/iter:0");
  const Tensor& iter = f.optimizer_weights[0].second;
  EXPECT_EQ(iter.dtype(), DType::i64);
  EXPECT_EQ(iter.shape(), Shape{});
  EXPECT_EQ(iter.item<int64_t>(), 6000);
  EXPECT_EQ(f.optimizer_weights[1].first, "Adam/dense/kernel/m:0");
  EXPECT_EQ(f.optimizer_weights[11].first, "Adam/dense/kernel/v:0");

  std::vector<std::string> stored;
  for (const auto& w : f.optimizer_weights) stored.push_back(w.first);
  const ParsedOptimizerNames p = parse_optimizer_weight_names(stored);
  EXPECT_EQ(p.scheme, OptimizerNaming::legacy);
  EXPECT_EQ(p.optimizer, "Adam");
  EXPECT_EQ(p.names[0].kind, OptimizerWeightName::Kind::iterations);
  // Every slot belongs to a model weight of the same shape, and formats back to the stored name.
  const std::map<std::string, Shape> shapes = weight_shapes(f);
  std::map<std::string, int> slots;
  for (size_t i = 1; i < p.names.size(); ++i) {
    const OptimizerWeightName& n = p.names[i];
    ASSERT_EQ(n.kind, OptimizerWeightName::Kind::slot) << stored[i];
    ASSERT_TRUE(shapes.count(n.variable + ":0")) << n.variable;
    EXPECT_EQ(shapes.at(n.variable + ":0"), f.optimizer_weights[i].second.shape()) << stored[i];
    EXPECT_EQ(format_optimizer_weight_name(OptimizerNaming::legacy, n), stored[i]);
    ++slots[n.slot];
  }
  EXPECT_EQ(slots, (std::map<std::string, int>{{"m", 10}, {"v", 10}}));
  EXPECT_EQ(p.names[3].variable, "layer_normalization/gamma");
}

TEST(KerasH5Fixtures, Tf215IrisDnnNewerNamesAndTopLevel) {
  const KerasH5File f = read_keras_h5(keras_fixture("tf215_iris_dnn.h5"));
  EXPECT_EQ(f.keras_version, "2.15.0");
  EXPECT_EQ(layer_names(f), (std::vector<std::string>{"dense", "dense_1", "dense_2"}));
  const std::map<std::string, Shape> expected = {{"dense/kernel:0", {4, 4}},   {"dense/bias:0", {4}},
                                                 {"dense_1/kernel:0", {4, 2}}, {"dense_1/bias:0", {2}},
                                                 {"dense_2/kernel:0", {2, 3}}, {"dense_2/bias:0", {3}}};
  EXPECT_EQ(weight_shapes(f), expected);
  ASSERT_TRUE(f.top_level_weights.has_value());  // present, with an empty float64 weight_names
  EXPECT_TRUE(f.top_level_weights->empty());
  EXPECT_EQ(config_classes(*f.model_config), (std::vector<std::string>{"InputLayer", "Dense", "Dense", "Dense"}));

  ASSERT_EQ(f.optimizer_weights.size(), 13u);
  EXPECT_EQ(f.optimizer_weights[0].first, "iteration:0");
  EXPECT_EQ(f.optimizer_weights[0].second.item<int64_t>(), 8000);
  std::vector<std::string> stored, variables;
  for (const auto& w : f.optimizer_weights) stored.push_back(w.first);
  for (const auto& [name, shape] : expected) variables.push_back(strip_weight_suffix(name));
  for (const ParsedOptimizerNames& p : {parse_optimizer_weight_names(stored),
                                        parse_optimizer_weight_names(stored, variables)}) {
    EXPECT_EQ(p.scheme, OptimizerNaming::v2);
    EXPECT_EQ(p.optimizer, "Adam");
    EXPECT_EQ(p.names[1].variable, "dense/kernel");
    EXPECT_EQ(p.names[1].slot, "m");
    EXPECT_EQ(p.names[2].slot, "v");
    for (size_t i = 1; i < p.names.size(); ++i) {
      EXPECT_EQ(expected.at(p.names[i].variable + ":0"), f.optimizer_weights[i].second.shape()) << stored[i];
      EXPECT_EQ(format_optimizer_weight_name(OptimizerNaming::v2, p.names[i]), stored[i]);
    }
  }
  // Keras's own order for this model and Adam's slots is exactly what the file holds.
  std::vector<std::string> vars = {"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                                   "dense_2/kernel", "dense_2/bias"};
  std::vector<std::string> order;
  for (const auto& n : keras_optimizer_weight_order(OptimizerNaming::v2, "Adam", vars, {"m", "v"})) {
    order.push_back(n.stored);
  }
  EXPECT_EQ(order, stored);
}

TEST(KerasH5Fixtures, Tf24LegacyOrderMatchesKeras) {
  const KerasH5File f = read_keras_h5(keras_fixture("tf24_mnist_dnn.h5"));
  std::vector<std::string> vars, stored, order;
  for (const auto& l : f.layers) {
    for (const auto& w : l.weights) vars.push_back(strip_weight_suffix(w.first));
  }
  for (const auto& w : f.optimizer_weights) stored.push_back(w.first);
  for (const auto& n : keras_optimizer_weight_order(OptimizerNaming::legacy, "Adam", vars, {"m", "v"})) {
    order.push_back(n.stored);
  }
  EXPECT_EQ(order, stored);
}

TEST(KerasH5Fixtures, Tf21GruKnownWeights) {
  const KerasH5File f = read_keras_h5(keras_fixture("tf21_gru_known_weights.h5"));
  EXPECT_EQ(f.keras_version, "2.2.4-tf");
  EXPECT_EQ(layer_names(f), (std::vector<std::string>{"input_1", "input_2", "gru"}));
  EXPECT_TRUE(f.layers[0].weights.empty());
  EXPECT_TRUE(f.optimizer_weights.empty());
  EXPECT_FALSE(f.training_config.has_value());
  const auto& gru = f.layers[2].weights;
  ASSERT_EQ(gru.size(), 2u);
  EXPECT_EQ(gru[0].first, "gru/kernel:0");
  EXPECT_EQ(gru[1].first, "gru/recurrent_kernel:0");
  EXPECT_TRUE(gru[0].second.equal(Tensor::from_vector<float>({1, -2, 3}, {1, 3})));
  EXPECT_TRUE(gru[1].second.equal(Tensor::from_vector<float>({-0.5f, 2, -1.1f}, {1, 3})));
  const std::vector<std::string> classes = config_classes(*f.model_config);
  EXPECT_NE(std::find(classes.begin(), classes.end(), "GRU"), classes.end());
}

namespace {
// Expected weight shapes of the example-models architectures, from their JSON (Dense, Conv2D, Flatten).
std::map<std::string, std::vector<Shape>> shapes_from_json(const json& model) {
  const json& layers = model.at("config").is_array() ? model.at("config") : model.at("config").at("layers");
  std::map<std::string, std::vector<Shape>> out;
  Shape features;  // current output shape without the batch dimension
  for (const json& l : layers) {
    const json& c = l.at("config");
    const std::string cls = l.at("class_name");
    if (c.contains("batch_input_shape")) {
      features.clear();
      for (size_t i = 1; i < c.at("batch_input_shape").size(); ++i) features.push_back(c["batch_input_shape"][i]);
    }
    std::vector<Shape>& w = out[c.at("name")];
    if (cls == "Dense") {
      const int64_t units = c.at("units");
      w = {{features.back(), units}, {units}};
      features.back() = units;
    } else if (cls == "Conv2D") {
      const int64_t filters = c.at("filters"), kh = c["kernel_size"][0], kw = c["kernel_size"][1];
      EXPECT_EQ(c.at("padding"), "same");
      EXPECT_EQ(c.at("strides"), json({1, 1}));
      w = {{kh, kw, features[2], filters}, {filters}};
      features[2] = filters;
    } else if (cls == "Flatten") {
      features = {checked_numel(features)};
    }
  }
  return out;
}
}  // namespace

TEST(KerasH5Fixtures, ExampleModelsWeightsOnlyMatchTheirJson) {
  for (const std::string name : {"KERAS_1layer", "KERAS_3layer", "KERAS_conv2d_model"}) {
    SCOPED_TRACE(name);
    const KerasH5File f = read_keras_h5(keras_fixture("weights/" + name + "_weights.h5"));
    EXPECT_EQ(f.layout, KerasH5Layout::weights_only);
    EXPECT_EQ(f.backend, "tensorflow");
    EXPECT_EQ(f.keras_version.substr(0, 2), "2.");
    EXPECT_FALSE(f.model_config.has_value());
    std::ifstream in(keras_fixture("weights/" + name + ".json"));
    const std::map<std::string, std::vector<Shape>> expected = shapes_from_json(json::parse(in));
    EXPECT_EQ(f.layers.size(), expected.size());
    for (const H5LayerWeights& l : f.layers) {
      ASSERT_TRUE(expected.count(l.layer_name)) << l.layer_name;
      std::vector<Shape> got;
      for (const auto& [wname, t] : l.weights) {
        EXPECT_EQ(wname.rfind(l.layer_name + "/", 0), 0u) << wname;
        got.push_back(t.shape());
      }
      EXPECT_EQ(got, expected.at(l.layer_name)) << l.layer_name;
    }
  }
}
