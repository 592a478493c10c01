// Sequential and functional models: summary text, configs against real Keras files, the registry,
// forward passes and errors.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;

namespace {

const std::string kFixtures = std::string(KEEL_SHARED_DIR) + "/fixtures/keras_h5/";

// A string attribute of the file root (fixed or variable length).
std::string h5_root_attribute(const std::string& path, const char* name) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  std::string out;
  if (H5Tis_variable_str(t) > 0) {
    char* s = nullptr;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Aread(a, mt, &s);
    out = s;
    H5free_memory(s);
    H5Tclose(mt);
  } else {
    std::string buf(H5Tget_size(t), '\0');
    H5Aread(a, t, buf.data());
    out = buf.c_str();
  }
  H5Tclose(t);
  H5Aclose(a);
  H5Fclose(f);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Keras >= 2.13 adds "module" and "registered_name" to serialized objects; the rest is comparable.
nlohmann::json strip_modules(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "module" || it.key() == "registered_name") continue;
      out[it.key()] = strip_modules(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(strip_modules(v));
    return out;
  }
  return j;
}

Sequential cifar_cnn() {
  return Sequential({
      layers::Conv2D(Conv2DOptions(16, 3).activation("relu").input_shape({32, 32, 3})),
      layers::MaxPooling2D(4),
      layers::BatchNormalization(),
      layers::Flatten(),
      layers::Dense(32, "relu"),
      layers::Dropout(0.5),
      layers::Dense(10, "softmax"),
  });
}

}  // namespace

TEST(KerasModel, CifarCnnSummaryIsKerasText) {
  backend::NameScope scope;
  Sequential model = cifar_cnn();
  const std::string expected =
      "Model: \"sequential\"\n"
      "_________________________________________________________________\n"
      " Layer (type)                Output Shape              Param #   \n"
      "=================================================================\n"
      " conv2d (Conv2D)             (None, 30, 30, 16)        448       \n"
      "                                                                 \n"
      " max_pooling2d (MaxPooling2D  (None, 7, 7, 16)         0         \n"
      " )                                                               \n"
      "                                                                 \n"
      " batch_normalization (BatchN  (None, 7, 7, 16)         64        \n"
      " ormalization)                                                   \n"
      "                                                                 \n"
      " flatten (Flatten)           (None, 784)               0         \n"
      "                                                                 \n"
      " dense (Dense)               (None, 32)                25120     \n"
      "                                                                 \n"
      " dropout (Dropout)           (None, 32)                0         \n"
      "                                                                 \n"
      " dense_1 (Dense)             (None, 10)                330       \n"
      "                                                                 \n"
      "=================================================================\n"
      "Total params: 25,962\n"
      "Trainable params: 25,930\n"
      "Non-trainable params: 32\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), expected);
  EXPECT_EQ(model.count_params(), 25962);
}

// Keras 2.11's print_row wraps a list of shapes after each "),"; a model whose layers each have one inbound
// node is printed without "Connected to" even when a layer has several outputs.
TEST(KerasModel, SummaryWrapsSeveralOutputShapes) {
  backend::NameScope scope;
  KerasTensor in = Input({5, 3});
  std::vector<KerasTensor> outs = layers::LSTM(layers::LSTMOptions(2).return_state(true))(std::vector<KerasTensor>{in});
  Model model(std::vector<KerasTensor>{in}, outs);
  const std::string expected =
      "Model: \"model\"\n"
      "_________________________________________________________________\n"
      " Layer (type)                Output Shape              Param #   \n"
      "=================================================================\n"
      " input_1 (InputLayer)        [(None, 5, 3)]            0         \n"
      "                                                                 \n"
      " lstm (LSTM)                 [(None, 2),               48        \n"
      "                              (None, 2),                         \n"
      "                              (None, 2)]                         \n"
      "                                                                 \n"
      "=================================================================\n"
      "Total params: 48\n"
      "Trainable params: 48\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), expected);
}

// "Connected to" names the inbound layer's node as Keras's node.iterate_inbound() does (its _keras_history
// node_index): a layer first called outside the model shows its second call as [1], while the model's
// config renumbers its nodes from 0.
TEST(KerasModel, SummaryConnectionsUseTheLayersNodeIndex) {
  backend::NameScope scope;
  KerasTensor a = Input({3});
  KerasTensor b = Input({3});
  KerasTensor c = Input({3});
  auto shared = std::make_shared<layers::Dense>(2);
  (*shared)(a);  // node 0, not part of the model below
  KerasTensor yb = (*shared)(b);
  KerasTensor merged = layers::Concatenate()(std::vector<KerasTensor>{yb, c})[0];
  Model model(std::vector<KerasTensor>{b, c}, std::vector<KerasTensor>{layers::Dense(1)(merged)});
  const std::string s = model.summary_string();
  EXPECT_NE(s.find(" concatenate (Concatenate)      (None, 5)            0           ['dense[1][0]',                  \n"
                   "                                                                  'input_3[0][0]']                \n"),
            std::string::npos)
      << s;
  const Json config = model.get_config();  // a named copy: a range-for over a temporary's member dangles
  for (const auto& l : config["layers"]) {
    if (l["name"] == "concatenate") EXPECT_EQ(l["inbound_nodes"].dump(), R"([[["dense",0,0,{}],["input_3",0,0,{}]]])");
  }
}

TEST(KerasModel, WeightsOrderAndCheckpointEdges) {
  backend::NameScope scope;
  Sequential model = cifar_cnn();
  std::vector<std::string> names;
  for (const auto& v : model.weights()) names.push_back(v.name());
  // tf.keras's Model.weights: layer by layer, each layer's trainable then non-trainable weights.
  EXPECT_EQ(names, (std::vector<std::string>{"conv2d/kernel", "conv2d/bias", "batch_normalization/gamma",
                                             "batch_normalization/beta", "batch_normalization/moving_mean",
                                             "batch_normalization/moving_variance", "dense/kernel", "dense/bias",
                                             "dense_1/kernel", "dense_1/bias"}));
  std::vector<std::string> edges;
  for (const auto& c : model.trackable_children()) edges.push_back(c.name);
  EXPECT_EQ(edges, (std::vector<std::string>{"layer_with_weights-0", "layer-0", "layer-1", "layer_with_weights-1",
                                             "layer-2", "layer-3", "layer_with_weights-2", "layer-4", "layer-5",
                                             "layer_with_weights-3", "layer-6"}));
  EXPECT_EQ(model.get_layer("flatten")->class_name(), "Flatten");
  EXPECT_EQ(model.get_layer(int64_t{4})->name(), "dense");
  try {
    model.get_layer("dense_9");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "No such layer: 'dense_9'. Existing layers are: ['conv2d', 'max_pooling2d', "
                 "'batch_normalization', 'flatten', 'dense', 'dropout', 'dense_1']");
  }
  model.get_layer("dense")->set_trainable(false);
  EXPECT_EQ(model.summary_string().find("Trainable params: 810\n") != std::string::npos, true);
}

TEST(KerasModel, SequentialConfigIsTheBytesKerasWrote) {
  // tf24_mnist_dnn.h5: Sequential(Input(784), Dense 16 sigmoid (ones bias), LayerNormalization, ...).
  backend::NameScope scope;
  auto dense = [](int64_t units, const char* act) {
    return layers::Dense(DenseOptions(units).activation(act).bias_initializer("ones"));
  };
  Sequential model({Input({784}), dense(16, "sigmoid"), layers::LayerNormalization(), dense(16, "sigmoid"),
                    layers::LayerNormalization(), dense(10, "softmax")});
  const std::string ours = python_json_dumps(Json{{"class_name", "Sequential"}, {"config", model.get_config()}});
  EXPECT_EQ(ours, h5_root_attribute(kFixtures + "tf24_mnist_dnn.h5", "model_config"));
}

TEST(KerasModel, SequentialConfigMatchesKeras215) {
  backend::NameScope scope;
  Sequential model({layers::Dense(DenseOptions(4).activation("relu").input_shape({4})), layers::Dense(2, "relu"),
                    layers::Dense(3, "sigmoid")});
  const auto theirs = strip_modules(nlohmann::json::parse(h5_root_attribute(kFixtures + "tf215_iris_dnn.h5", "model_config")));
  const auto ours = nlohmann::json::parse(python_json_dumps(Json{{"class_name", "Sequential"}, {"config", model.get_config()}}));
  EXPECT_EQ(ours, theirs) << ours.dump(1);
}

TEST(KerasModel, ConfigsFromKerasFilesRebuild) {
  backend::NameScope scope;
  auto cnn = model_from_json(read_text(kFixtures + "weights/KERAS_conv2d_model.json"));
  EXPECT_EQ(cnn->class_name(), "Sequential");
  EXPECT_EQ(cnn->count_params(), 3 * 3 * 1 * 2 + 2 + 128 * 10 + 10);
  EXPECT_EQ(cnn->get_layer("conv2d_1")->get_config()["padding"], "same");
  auto mlp = model_from_json(read_text(kFixtures + "weights/KERAS_3layer.json"));
  EXPECT_EQ(mlp->class_name(), "Functional");
  EXPECT_EQ(mlp->name(), "model_1");
  EXPECT_EQ(mlp->count_params(), 1088 + 2080 + 1056 + 165);
  EXPECT_EQ(mlp->layers().front()->name(), "input_1");
  EXPECT_EQ(mlp->layers().back()->name(), "output_softmax");
  // The functional layout of the file survives a round trip through our config.
  const auto theirs = nlohmann::json::parse(read_text(kFixtures + "weights/KERAS_3layer.json"))["config"];
  const auto ours = nlohmann::json::parse(python_json_dumps(mlp->get_config()));
  EXPECT_EQ(ours["input_layers"], theirs["input_layers"]);
  EXPECT_EQ(ours["output_layers"], theirs["output_layers"]);
  for (size_t i = 0; i < theirs["layers"].size(); ++i) {
    EXPECT_EQ(ours["layers"][i]["inbound_nodes"], theirs["layers"][i]["inbound_nodes"]) << i;
    EXPECT_EQ(ours["layers"][i]["name"], theirs["layers"][i]["name"]);
  }
  // A layer keel lacks is named in the error.
  try {
    model_from_json(h5_root_attribute(kFixtures + "tf21_gru_known_weights.h5", "model_config"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Unknown layer: 'GRU'. Register it with keras::register_layer<T>(\"GRU\")");
  }
}

TEST(KerasModel, FunctionalMultiInputGraph) {
  backend::NameScope scope;
  KerasTensor a = Input({3}), b = Input({5});
  KerasTensor x = layers::Dense(4, "relu")(a);
  KerasTensor merged = layers::Concatenate()({x, b})[0];
  KerasTensor out1 = layers::Dense(2)(merged);
  KerasTensor out2 = layers::Dense(1)(merged);
  Model model({a, b}, {out1, out2});
  EXPECT_EQ(model.name(), "model");
  std::vector<std::string> order;
  for (const auto& l : model.layers()) order.push_back(l->name());
  // Keras's order: by depth from the outputs (deepest first), ties by first visit from the outputs, so
  // input_2 (depth 2, met after dense) comes after dense.
  EXPECT_EQ(order, (std::vector<std::string>{"input_1", "dense", "input_2", "concatenate", "dense_1", "dense_2"}));
  const Json c = model.get_config();
  EXPECT_EQ(c["layers"][3]["inbound_nodes"].dump(), R"([[["dense",0,0,{}],["input_2",0,0,{}]]])");
  EXPECT_EQ(c["input_layers"].dump(), R"([["input_1",0,0],["input_2",0,0]])");
  EXPECT_EQ(c["output_layers"].dump(), R"([["dense_1",0,0],["dense_2",0,0]])");
  EXPECT_EQ(model.count_params(), 16 + 20 + 10);
  const std::string s = model.summary_string();
  // Keras 2.11's print_row: "Connected to" is the list's str(), wrapped after "',".
  EXPECT_NE(s.find(" concatenate (Concatenate)      (None, 9)            0           ['dense[0][0]',                  \n"
                   "                                                                  'input_2[0][0]']                \n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(" input_1 (InputLayer)           [(None, 3)]          0           []                               \n"),
            std::string::npos)
      << s;
  // to_json -> model_from_json -> to_json is stable.
  const std::string js = model.to_json();
  backend::NameScope inner;
  EXPECT_EQ(model_from_json(js)->to_json(), js);
}

TEST(KerasModel, DuplicateNamesAreErrors) {
  backend::NameScope scope;
  try {
    Sequential({layers::Dense(DenseOptions(2).name("head")), layers::Dense(DenseOptions(2).name("head"))});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Sequential 'sequential': the layer name 'head' is used 2 times in the model; all layer names "
                 "should be unique");
  }
  KerasTensor in = Input({3});
  KerasTensor h = layers::Dense(DenseOptions(2).name("same"))(in);
  KerasTensor o = layers::Dense(DenseOptions(2).name("same"))(h);
  try {
    Model model(in, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Functional 'model': the layer name 'same' is used 2 times in the model; all layer names should be "
                 "unique");
  }
}

namespace {
class Scale : public LayerImpl<Scale> {
 public:
  explicit Scale(double factor, const LayerArgs& args = {}) : LayerImpl<Scale>("Scale", args), factor_(factor) {}
  static std::shared_ptr<Layer> from_config(const Json& c) {
    return std::make_shared<Scale>(c.at("factor").get<double>(), layer_args_from_config(c));
  }
  Json get_config() const override {
    Json c = Layer::get_config();
    c["factor"] = factor_;
    return c;
  }
  Tensor call(const Tensor& x, bool) override {
    Tensor y = x.clone();
    for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] *= static_cast<float>(factor_);
    return y;
  }

 private:
  double factor_;
};
}  // namespace

TEST(KerasModel, UserLayersRegisterAndRoundTrip) {
  backend::NameScope scope;
  register_layer<Scale>("Scale");
  Sequential model({layers::Dense(DenseOptions(2).input_shape({3})), Scale(3.0)});
  EXPECT_EQ(model.layers()[1]->name(), "scale");
  const std::string js = model.to_json();
  backend::NameScope inner;
  auto again = model_from_json(js);
  EXPECT_EQ(again->get_layer("scale")->get_config()["factor"], 3.0);
  EXPECT_EQ(again->to_json(), js);
}

TEST(KerasModel, ForwardPassMatchesHandComputation) {
  backend::NameScope scope;
  Sequential model({layers::Dense(DenseOptions(2).activation("relu").input_shape({3})), layers::Dense(2, "softmax")});
  model.get_layer("dense")->set_weights({Tensor::from_vector<float>({1, -1, 0, 2, 0.5f, -1}, {3, 2}),
                                         Tensor::from_vector<float>({0.5f, 0})});
  model.get_layer("dense_1")->set_weights({Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2}),
                                           Tensor::from_vector<float>({0, 1})});
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, -1, 0, 1}, {2, 3});
  const Tensor y = model(x);
  // Row 0: x·W + b = [1 + 0 + 1.5 + 0.5, -1 + 4 - 3 + 0] = [3, 0] -> relu [3, 0]; logits [3, 1].
  // Row 1: x·W + b = [-1 + 0 + 0.5 + 0.5, 1 + 0 - 1 + 0] = [0, 0] -> relu [0, 0]; logits [0, 1].
  const double e0 = 1.0 / (1.0 + std::exp(-2.0)), e1 = 1.0 / (1.0 + std::exp(1.0));
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_NEAR(y.at<float>({0, 0}), e0, 1e-6);
  EXPECT_NEAR(y.at<float>({0, 1}), 1 - e0, 1e-6);
  EXPECT_NEAR(y.at<float>({1, 0}), e1, 1e-6);
  EXPECT_NEAR(y.at<float>({1, 1}), 1 - e1, 1e-6);
  // A built model called with the wrong feature size names the first layer and both shapes.
  try {
    model(Tensor::zeros({32, 100}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Dense 'dense': expected input with last dimension 3, got [32,100]");
  }
}

TEST(KerasModel, SequentialBuildsOnFirstCall) {
  backend::NameScope scope;
  Sequential model;
  model.add(layers::Dense(4, "relu"));
  model.add(layers::Dense(1));
  EXPECT_FALSE(model.built());
  try {
    model.summary_string();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Sequential 'sequential': this model has not yet been built; call it on data, build() it, or give "
                 "its first layer an input_shape");
  }
  const Tensor y = model(Tensor::ones({5, 7}));
  EXPECT_EQ(y.shape(), (Shape{5, 1}));
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.count_params(), 7 * 4 + 4 + 5);
  EXPECT_EQ(model.get_config()["layers"][0]["config"]["name"], "dense_input");
  EXPECT_EQ(model.get_config()["layers"][0]["config"]["batch_input_shape"].dump(), "[null,7]");
}
