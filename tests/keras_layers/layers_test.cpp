// Output shapes, parameter counts (Keras's numbers), configs and error messages of each layer.
#include <gtest/gtest.h>

#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;

namespace {
// Calls a temporary layer symbolically on Input(shape); returns the layer and its output shape.
template <class L>
std::pair<std::shared_ptr<Layer>, Shape> apply(L&& layer, const Shape& shape, DType dtype = DType::f32) {
  KerasTensor in = Input(InputOptions(shape).dtype(dtype));
  KerasTensor out = std::move(layer)(in);
  return {out.layer(), out.shape()};
}
}  // namespace

TEST(KerasLayers, ShapesAndParamCountsMatchKeras) {
  backend::NameScope scope;
  auto [dense, ds] = apply(layers::Dense(128, "relu"), {784});
  EXPECT_EQ(ds, (Shape{-1, 128}));
  EXPECT_EQ(dense->count_params(), 100480);

  auto [conv, cs] = apply(layers::Conv2D(16, 3), {32, 32, 3});
  EXPECT_EQ(cs, (Shape{-1, 30, 30, 16}));
  EXPECT_EQ(conv->count_params(), 448);
  auto [conv_same, css] = apply(layers::Conv2D(Conv2DOptions(8, 5).strides(2).padding("same")), {32, 32, 3});
  EXPECT_EQ(css, (Shape{-1, 16, 16, 8}));
  EXPECT_EQ(conv_same->count_params(), 5 * 5 * 3 * 8 + 8);

  EXPECT_EQ(apply(layers::MaxPooling2D(4), {30, 30, 16}).second, (Shape{-1, 7, 7, 16}));
  EXPECT_EQ(apply(layers::AveragePooling2D(Pool2DOptions(2).strides(1).padding("same")), {5, 5, 3}).second,
            (Shape{-1, 5, 5, 3}));
  EXPECT_EQ(apply(layers::AveragePooling2D(), {5, 5, 3}).second, (Shape{-1, 2, 2, 3}));
  EXPECT_EQ(apply(layers::GlobalAveragePooling2D(), {7, 7, 16}).second, (Shape{-1, 16}));

  auto [bn, bs] = apply(layers::BatchNormalization(), {7, 7, 16});
  EXPECT_EQ(bs, (Shape{-1, 7, 7, 16}));
  EXPECT_EQ(bn->count_params(), 64);
  EXPECT_EQ(bn->trainable_weights().size(), 2u);
  EXPECT_EQ(bn->non_trainable_weights().size(), 2u);
  EXPECT_EQ(bn->weights()[2].name(), "batch_normalization/moving_mean");

  auto [ln, ls] = apply(layers::LayerNormalization(), {16});
  EXPECT_EQ(ls, (Shape{-1, 16}));
  EXPECT_EQ(ln->count_params(), 32);

  auto [emb, es] = apply(layers::Embedding(1000, 64), {10}, DType::i32);
  EXPECT_EQ(es, (Shape{-1, 10, 64}));
  EXPECT_EQ(emb->count_params(), 64000);

  auto [lstm, lsh] = apply(layers::LSTM(32), {10, 8});
  EXPECT_EQ(lsh, (Shape{-1, 32}));
  EXPECT_EQ(lstm->count_params(), 5248);
  EXPECT_EQ(apply(layers::LSTM(LSTMOptions(32).return_sequences(true)), {10, 8}).second, (Shape{-1, 10, 32}));

  EXPECT_EQ(apply(layers::Flatten(), {7, 7, 16}).second, (Shape{-1, 784}));
  EXPECT_EQ(apply(layers::Reshape({7, 7, -1}), {784}).second, (Shape{-1, 7, 7, 16}));
  EXPECT_EQ(apply(layers::Dropout(0.5), {32}).second, (Shape{-1, 32}));
  EXPECT_EQ(apply(layers::Activation("tanh"), {3, 4}).second, (Shape{-1, 3, 4}));

  KerasTensor a = Input({3}), b = Input({5});
  EXPECT_EQ(layers::Concatenate()({a, b})[0].shape(), (Shape{-1, 8}));
  EXPECT_EQ(layers::Add()({a, Input({3})})[0].shape(), (Shape{-1, 3}));
}

TEST(KerasLayers, WeightsHaveKerasNamesAndOrder) {
  backend::NameScope scope;
  auto [lstm, s] = apply(layers::LSTM(4), {5, 3});
  const auto w = lstm->weights();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].name(), "lstm/lstm_cell/kernel");
  EXPECT_EQ(w[0].shape(), (Shape{3, 16}));
  EXPECT_EQ(w[1].name(), "lstm/lstm_cell/recurrent_kernel");
  EXPECT_EQ(w[1].shape(), (Shape{4, 16}));
  EXPECT_EQ(w[2].name(), "lstm/lstm_cell/bias");
  // unit_forget_bias: the forget gate's slice of the bias is ones.
  const float* b = w[2].value().data<float>();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(b[i], (i >= 4 && i < 8) ? 1.0f : 0.0f) << i;
  // Checkpoint edges: the LSTM has a "cell" child holding the variables.
  const auto children = lstm->trackable_children();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].name, "cell");
  ASSERT_EQ(children[0].object->tracked().size(), 3u);
  EXPECT_EQ(children[0].object->tracked()[1].name, "recurrent_kernel");

  auto [emb, es] = apply(layers::Embedding(10, 2), {4}, DType::i32);
  EXPECT_EQ(emb->weights()[0].name(), "embedding/embeddings");
  layers::Dense d(3);
  d.maybe_build(Shape{-1, 2});
  ASSERT_EQ(d.tracked().size(), 2u);
  EXPECT_EQ(d.tracked()[0].name, "kernel");
  EXPECT_EQ(d.tracked()[1].name, "bias");
  EXPECT_EQ(d.tracked()[0].variable.name(), "dense/kernel");
  // A frozen layer lists its weights as non-trainable (trainable ones first).
  d.set_trainable(false);
  EXPECT_TRUE(d.trainable_weights().empty());
  ASSERT_EQ(d.non_trainable_weights().size(), 2u);
  EXPECT_EQ(d.non_trainable_weights()[0].name(), "dense/kernel");
}

TEST(KerasLayers, ConfigsUseKerasFieldNames) {
  backend::NameScope scope;
  layers::Conv2D conv(Conv2DOptions(16, 3).activation("relu").input_shape({32, 32, 3}));
  EXPECT_EQ(python_json_dumps(conv.get_config()),
            R"({"name": "conv2d", "trainable": true, "dtype": "float32", "batch_input_shape": [null, 32, 32, 3], )"
            R"("filters": 16, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": )"
            R"("channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true, )"
            R"("kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": )"
            R"({"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, )"
            R"("activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null})");
  EXPECT_EQ(python_json_dumps(layers::MaxPooling2D(4).get_config()),
            R"({"name": "max_pooling2d", "trainable": true, "dtype": "float32", "pool_size": [4, 4], )"
            R"("padding": "valid", "strides": [4, 4], "data_format": "channels_last"})");
  EXPECT_EQ(python_json_dumps(layers::Dropout(0.5).get_config()),
            R"({"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.5, "noise_shape": null, "seed": null})");
  EXPECT_EQ(python_json_dumps(layers::Flatten().get_config()),
            R"({"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"})");
  auto [bn, s] = apply(layers::BatchNormalization(), {7, 7, 16});
  EXPECT_EQ(python_json_dumps(bn->get_config()),
            R"({"name": "batch_normalization", "trainable": true, "dtype": "float32", "axis": [3], )"
            R"("momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true, "beta_initializer": )"
            R"({"class_name": "Zeros", "config": {}}, "gamma_initializer": {"class_name": "Ones", "config": {}}, )"
            R"("moving_mean_initializer": {"class_name": "Zeros", "config": {}}, "moving_variance_initializer": )"
            R"({"class_name": "Ones", "config": {}}, "beta_regularizer": null, "gamma_regularizer": null, )"
            R"("beta_constraint": null, "gamma_constraint": null})");
  const Json lstm = layers::LSTM(8).get_config();
  EXPECT_EQ(lstm["recurrent_initializer"].dump(), R"({"class_name":"Orthogonal","config":{"gain":1.0,"seed":null}})");
  EXPECT_EQ(lstm["units"], 8);
  EXPECT_EQ(lstm["unit_forget_bias"], true);
  EXPECT_EQ(lstm["implementation"], 2);
  const Json emb = layers::Embedding(EmbeddingOptions(100, 8).input_length(10)).get_config();
  EXPECT_EQ(emb["batch_input_shape"].dump(), "[null,10]");
  EXPECT_EQ(emb["embeddings_initializer"].dump(),
            R"({"class_name":"RandomUniform","config":{"minval":-0.05,"maxval":0.05,"seed":null}})");
  EXPECT_EQ(layers::Reshape({7, 7, 16}).get_config()["target_shape"].dump(), "[7,7,16]");
}

TEST(KerasLayers, ErrorMessagesNameTheLayerAndBothShapes) {
  backend::NameScope scope;
  layers::Dense first(10);
  layers::Dense dense(10);
  dense.maybe_build(Shape{-1, 784});
  try {
    dense(Tensor::zeros({32, 100}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Dense 'dense_1': expected input with last dimension 784, got [32,100]");
  }
  auto conv = std::make_shared<layers::Conv2D>(4, 3);
  try {
    (*conv)(Input({784}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Conv2D 'conv2d': expected input of rank 4, got [None,784]");
  }
  layers::Dense unshared(3);
  try {
    unshared(Input({4}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Dense 'dense_2': to call a layer on a KerasTensor, hold it in a std::shared_ptr (or call a temporary)");
  }
  try {
    layers::Dense never(3);
    never.count_params();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Dense 'dense_3': count_params needs a built layer (call it on an input first)");
  }
  try {
    layers::Conv2D(Conv2DOptions(4, 3).padding("full"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Conv2D 'conv2d_1': padding must be 'valid' or 'same', got 'full'");
  }
  try {
    dense.set_weights({Tensor::zeros({10, 10}), Tensor::zeros({10})});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Dense 'dense_1': weight 'dense_1/kernel' has shape [784,10], got [10,10]");
  }
}
