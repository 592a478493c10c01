// Writing Keras HDF5 files: round trips bit for bit, and the on-disk layout Keras's reader expects.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "h5_test_util.h"
#include "keel/keras/saving/h5/hdf5.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/h5/optimizer_names.h"

using namespace keel;
using keel::test::keras_fixture;
using keel::test::ScratchDir;

namespace {

void expect_same_tensors(const NamedTensors& a, const NamedTensors& b, const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first) << where;
    EXPECT_TRUE(a[i].second.equal(b[i].second)) << where << " " << a[i].first;  // dtype, shape, bytes
  }
}

void expect_same_file(const KerasH5File& a, const KerasH5File& b) {
  EXPECT_EQ(a.layout, b.layout);
  EXPECT_EQ(a.keras_version, b.keras_version);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.model_config, b.model_config);
  EXPECT_EQ(a.training_config, b.training_config);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].layer_name, b.layers[i].layer_name);
    expect_same_tensors(a.layers[i].weights, b.layers[i].weights, a.layers[i].layer_name);
  }
  ASSERT_EQ(a.top_level_weights.has_value(), b.top_level_weights.has_value());
  if (a.top_level_weights) expect_same_tensors(*a.top_level_weights, *b.top_level_weights, "top level");
  expect_same_tensors(a.optimizer_weights, b.optimizer_weights, "optimizer");
}

// Every group, attribute (with its datatype class, string kind and dims) and dataset (shape) of `a` is
// in `b` with the same properties, and nothing else is.
void expect_same_structure(const h5::Group& a, const h5::Group& b) {
  ASSERT_EQ(a.attr_names(), b.attr_names()) << a.path();
  for (const std::string& name : a.attr_names()) {
    const h5::AttrInfo x = a.attr_info(name), y = b.attr_info(name);
    EXPECT_EQ(x.cls, y.cls) << a.path() << " @" << name;
    EXPECT_EQ(x.variable_length, y.variable_length) << a.path() << " @" << name;
    EXPECT_EQ(x.utf8, y.utf8) << a.path() << " @" << name;
    EXPECT_EQ(x.scalar, y.scalar) << a.path() << " @" << name;
    EXPECT_EQ(x.dims, y.dims) << a.path() << " @" << name;
    if (x.cls != h5::AttrInfo::Class::string) {
      EXPECT_EQ(x.size, y.size) << a.path() << " @" << name;
    }
  }
  ASSERT_EQ(a.children(), b.children()) << a.path();
  for (const std::string& child : a.children()) {
    ASSERT_EQ(a.is_group(child), b.is_group(child)) << a.path() << "/" << child;
    if (a.is_group(child)) {
      expect_same_structure(a.open_group(child), b.open_group(child));
    } else {
      EXPECT_TRUE(a.read_dataset(child).equal(b.read_dataset(child))) << a.path() << "/" << child;
    }
  }
}

}  // namespace

TEST(KerasH5Write, FullModelRoundTripOfTf215MatchesKerasLayout) {
  ScratchDir dir;
  const std::string src = keras_fixture("tf215_iris_dnn.h5");
  const KerasH5File f = read_keras_h5(src);
  write_keras_h5_model(dir.path("m.h5"), f);
  expect_same_file(f, read_keras_h5(dir.path("m.h5")));
  // Same groups, datasets and attribute types as the file tf.keras 2.15 wrote.
  const h5::File theirs = h5::File::open(src), ours = h5::File::open(dir.path("m.h5"));
  expect_same_structure(theirs.root(), ours.root());
}

TEST(KerasH5Write, FullModelRoundTripOfTf24) {
  ScratchDir dir;
  const KerasH5File f = read_keras_h5(keras_fixture("tf24_mnist_dnn.h5"));
  write_keras_h5_model(dir.path("m.h5"), f);
  const KerasH5File back = read_keras_h5(dir.path("m.h5"));
  expect_same_file(f, back);
  EXPECT_FALSE(back.top_level_weights.has_value());
  EXPECT_EQ(back.optimizer_weights[0].second.item<int64_t>(), 6000);
}

TEST(KerasH5Write, WeightsOnlyRoundTrip) {
  ScratchDir dir;
  const KerasH5File f = read_keras_h5(keras_fixture("weights/KERAS_conv2d_model_weights.h5"));
  write_keras_h5_weights(dir.path("w.h5"), f);
  const KerasH5File back = read_keras_h5(dir.path("w.h5"));
  EXPECT_EQ(back.layout, KerasH5Layout::weights_only);
  expect_same_file(f, back);
  // The root holds layer_names, backend and keras_version as ASCII strings, one group per layer.
  const h5::File w = h5::File::open(dir.path("w.h5"));
  const h5::Group root = w.root();
  EXPECT_EQ(root.attr_names(), (std::vector<std::string>{"backend", "keras_version", "layer_names"}));
  // Keras 2.0 wrote no top_level_model_weights group, and the copy keeps it absent.
  EXPECT_EQ(root.children(), (std::vector<std::string>{"conv2d_1", "dense_1", "dropout_1", "flatten_1"}));
  const h5::AttrInfo names = root.attr_info("layer_names");
  EXPECT_EQ(names.cls, h5::AttrInfo::Class::string);
  EXPECT_TRUE(names.variable_length);
  EXPECT_FALSE(names.utf8);
  EXPECT_EQ(names.dims, Shape{4});
  // A layer without weights gets weight_names = [] exactly as h5py writes it: an empty float64 array.
  const h5::AttrInfo empty = root.open_group("dropout_1").attr_info("weight_names");
  EXPECT_EQ(empty.cls, h5::AttrInfo::Class::floating);
  EXPECT_EQ(empty.size, 8u);
  EXPECT_EQ(empty.dims, Shape{0});
  EXPECT_TRUE(root.is_dataset("conv2d_1/conv2d_1/kernel:0"));
}

TEST(KerasH5Write, KeelModelWithEveryDtypeAndBothNamingSchemes) {
  ScratchDir dir;
  KerasH5File f;
  f.model_config = R"({"class_name": "Sequential", "config": {"name": "sequential", "layers": []}})";
  f.training_config = R"({"loss": "mse", "optimizer_config": {"class_name": "Adam", "config": {}}})";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Layer order on purpose not sorted: layer_names keeps it, groups are created sorted.
  f.layers.push_back({"zeta", {{"zeta/kernel:0", Tensor::from_vector<float>({1.5f, -0.0f, nan, 1e-45f}, {2, 2})},
                               {"zeta/bias:0", Tensor::from_vector<double>({std::exp(1.0), -1e300})}}});
  f.layers.push_back({"alpha", {}});
  // Keras 3 legacy names: no ":0", nested under the model's name.
  f.layers.push_back({"counts", {{"sequential/counts/count", Tensor::scalar(42, DType::i64)},
                                 {"sequential/counts/bins", Tensor::from_vector<int32_t>({-7, 0, 2147483647})},
                                 {"sequential/counts/bytes", Tensor::from_vector<uint8_t>({0, 255}, {1, 2})},
                                 {"sequential/counts/mask", Tensor::from_vector<bool>({true, false, true})},
                                 {"sequential/counts/none", Tensor::zeros({0, 3})}}});
  f.top_level_weights = NamedTensors{{"temperature:0", Tensor::scalar(0.5)}};
  for (const OptimizerWeightName& n :
       keras_optimizer_weight_order(OptimizerNaming::legacy, "Adam", {"zeta/kernel", "zeta/bias"}, {"m", "v"})) {
    f.optimizer_weights.emplace_back(n.stored, n.kind == OptimizerWeightName::Kind::iterations
                                                   ? Tensor::scalar(3, DType::i64)
                                                   : Tensor::full({2}, 0.25));
  }
  write_keras_h5_model(dir.path("k.h5"), f);
  const KerasH5File back = read_keras_h5(dir.path("k.h5"));
  expect_same_file(f, back);
  EXPECT_EQ(back.layers[1].layer_name, "alpha");
  const h5::File h = h5::File::open(dir.path("k.h5"));
  const h5::Group mw = h.root().open_group("model_weights");
  EXPECT_EQ(mw.children(), (std::vector<std::string>{"alpha", "counts", "top_level_model_weights", "zeta"}));
  EXPECT_TRUE(mw.is_dataset("counts/sequential/counts/mask"));
  EXPECT_EQ(mw.dataset_shape("counts/sequential/counts/count"), Shape{});  // h5py's dset[()]
  EXPECT_TRUE(h.root().is_dataset("optimizer_weights/Adam/zeta/kernel/m:0"));
  const h5::AttrInfo version = h.root().attr_info("keras_version");
  EXPECT_TRUE(version.variable_length && version.utf8 && version.scalar);
  EXPECT_FALSE(h.root().attr_info("model_config").utf8);
}

TEST(KerasH5Write, WeightsOnlyIgnoresConfigAndOptimizer) {
  ScratchDir dir;
  const KerasH5File f = read_keras_h5(keras_fixture("tf215_iris_dnn.h5"));
  write_keras_h5_weights(dir.path("w.h5"), f);
  const KerasH5File back = read_keras_h5(dir.path("w.h5"));
  EXPECT_EQ(back.layout, KerasH5Layout::weights_only);
  EXPECT_FALSE(back.model_config.has_value());
  EXPECT_TRUE(back.optimizer_weights.empty());
  ASSERT_EQ(back.layers.size(), 3u);
  expect_same_tensors(f.layers[2].weights, back.layers[2].weights, "dense_2");
}

TEST(KerasH5Write, LongLayerListsAreSplitLikeKeras) {
  ScratchDir dir;
  KerasH5File f;
  f.layout = KerasH5Layout::weights_only;
  // 700 names padded to 100 bytes: 70000 bytes as numpy 'S100' > 64512, so Keras writes two chunks of 350.
  for (int i = 0; i < 700; ++i) {
    std::string name = "layer_" + std::to_string(i);
    name += std::string(100 - name.size(), 'x');
    f.layers.push_back({name, {}});
  }
  f.layers[5].weights.push_back({f.layers[5].layer_name + "/w:0", Tensor::ones({2})});
  write_keras_h5_weights(dir.path("w.h5"), f);
  const h5::File h = h5::File::open(dir.path("w.h5"));
  const h5::Group root = h.root();
  EXPECT_FALSE(root.has_attr("layer_names"));
  EXPECT_FALSE(root.has_attr("layer_names2"));
  const h5::AttrInfo c0 = root.attr_info("layer_names0"), c1 = root.attr_info("layer_names1");
  EXPECT_EQ(c0.dims, Shape{350});
  EXPECT_EQ(c1.dims, Shape{350});
  EXPECT_FALSE(c0.variable_length);  // numpy 'S100' chunks: fixed length, null padded
  EXPECT_TRUE(c0.null_padded);
  EXPECT_EQ(c0.size, 100u);
  const KerasH5File back = read_keras_h5(dir.path("w.h5"));
  expect_same_file(f, back);
}

TEST(KerasH5Hdf5, SplitAttributeChunksFollowArraySplit) {
  ScratchDir dir;
  h5::File f = h5::File::create(dir.path("a.h5"));
  {
    const h5::Group g = f.root();
    // 7 values of 10000 bytes: ceil(7/k) * 10000 <= 64512 first holds for k = 2 -> chunks of 4 and 3.
    std::vector<std::string> big;
    for (char c = 'a'; c < 'h'; ++c) big.push_back(std::string(10000, c));
    g.write_split_string_list_attr("names", big);
    EXPECT_EQ(g.attr_info("names0").dims, Shape{4});
    EXPECT_EQ(g.attr_info("names1").dims, Shape{3});
    EXPECT_EQ(g.read_split_string_list_attr("names"), big);
    // Rewriting a short list removes the old chunks.
    g.write_split_string_list_attr("names", {"a", "b"});
    EXPECT_FALSE(g.has_attr("names0"));
    EXPECT_EQ(g.read_split_string_list_attr("names"), (std::vector<std::string>{"a", "b"}));
    // 5000 short names fit as numpy bytes but not as 16-byte variable-length references: fixed, unsplit.
    std::vector<std::string> many(5000, "abc");
    g.write_split_string_list_attr("many", many);
    EXPECT_FALSE(g.attr_info("many").variable_length);
    EXPECT_EQ(g.read_split_string_list_attr("many"), many);
    EXPECT_TRUE(g.read_split_string_list_attr("absent").empty());  // as Keras: neither form -> []
    try {
      g.write_split_string_list_attr("huge", {std::string(70000, 'z')});
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "h5: " + dir.path("a.h5") +
                                           ": / attribute 'huge': cannot save a value of 70000 bytes (larger "
                                           "than 64512 bytes): 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'");
    }
  }
  f.close();
}
