// LSTM go_backwards and the Bidirectional wrapper: outputs against a double-precision reference of
// Keras's LSTM, Keras's variable names, checkpoint edges and config, save/load round trips, bad
// arguments, and a model that learns Fashion-MNIST images read row by row.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "checkpoint_test_objects.h"
#include "error_of.h"
#include "fashion_subset.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/save_model.h"
#include "lstm_reference.h"

using namespace keel;
using namespace keel::keras;
using keel::test::error_of;

namespace {

constexpr int64_t B = 2, T = 4, F = 3, U = 2;

using lstm_test::randn;

std::vector<std::vector<std::vector<double>>> reference_hs(const Tensor& x, const std::vector<Tensor>& w,
                                                           bool backwards) {
  return lstm_test::reference_steps(x, w, backwards);
}

void expect_near(const Tensor& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want[i], 1e-5) << what << " " << i;
}

std::vector<Tensor> weights_of(const Layer& l) { return l.get_weights(); }

}  // namespace

TEST(LSTMGoBackwards, ReadsTheSequenceLastStepFirstAndReturnsItsOutputsInThatOrder) {
  const Tensor x = randn({B, T, F}, 1);
  layers::LSTM back(layers::LSTMOptions(U).go_backwards(true).return_sequences(true));
  const Tensor y = back(x);
  ASSERT_EQ(y.shape(), (Shape{B, T, U}));
  const auto ref = reference_hs(x, weights_of(back), /*backwards=*/true);
  std::vector<double> want;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < T; ++s) want.insert(want.end(), ref[b][s].begin(), ref[b][s].end());
  expect_near(y, want, "go_backwards sequence");
  EXPECT_EQ(back.get_config()["go_backwards"], true);
  auto again = layer_from_config({{"class_name", "LSTM"}, {"config", back.get_config()}});
  EXPECT_EQ(again->get_config()["go_backwards"], true);
}

TEST(Bidirectional, EveryMergeModeMatchesTheForwardAndReversedBackwardReferences) {
  const Tensor x = randn({B, T, F}, 2);
  for (bool seq : {false, true}) {
    for (const char* mode : {"concat", "sum", "ave", "mul"}) {
      layers::Bidirectional bi(layers::LSTM(layers::LSTMOptions(U).return_sequences(seq)), std::string(mode));
      const Tensor y = bi(x);
      const auto f = reference_hs(x, weights_of(*bi.forward_layer()), false);
      const auto r = reference_hs(x, weights_of(*bi.backward_layer()), true);
      std::vector<double> want;
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = seq ? 0 : T - 1; t < T; ++t) {
          const auto& hf = f[b][t];
          const auto& hb = seq ? r[b][T - 1 - t] : r[b][T - 1];  // the backward output of input step t
          for (int64_t k = 0; k < U; ++k) {
            const std::string m = mode;
            if (m == "concat") continue;
            want.push_back(m == "sum" ? hf[k] + hb[k] : m == "ave" ? (hf[k] + hb[k]) / 2 : hf[k] * hb[k]);
          }
          if (std::string(mode) == "concat") {
            want.insert(want.end(), hf.begin(), hf.end());
            want.insert(want.end(), hb.begin(), hb.end());
          }
        }
      }
      const Shape want_shape = seq ? Shape{B, T, std::string(mode) == "concat" ? 2 * U : U}
                                   : Shape{B, std::string(mode) == "concat" ? 2 * U : U};
      EXPECT_EQ(y.shape(), want_shape) << mode;
      Shape symbolic = want_shape;
      symbolic[0] = -1;
      EXPECT_EQ(bi.compute_output_shapes({{-1, T, F}}), std::vector<Shape>{symbolic}) << mode;
      expect_near(y, want, std::string(mode) + (seq ? " sequences" : " last"));
    }
  }
}

TEST(Bidirectional, NoMergeAndReturnStateGiveKerasOutputList) {
  const Tensor x = randn({B, T, F}, 3);
  layers::Bidirectional bi(layers::BidirectionalOptions(layers::LSTM(layers::LSTMOptions(U).return_state(true)))
                               .merge_mode(std::nullopt));
  const std::vector<Tensor> out = bi(std::vector<Tensor>{x});
  ASSERT_EQ(out.size(), 6u);  // forward output, backward output, h_f, c_f, h_b, c_b
  const auto f = reference_hs(x, weights_of(*bi.forward_layer()), false);
  const auto r = reference_hs(x, weights_of(*bi.backward_layer()), true);
  std::vector<double> hf, hb;
  for (int64_t b = 0; b < B; ++b) {
    hf.insert(hf.end(), f[b][T - 1].begin(), f[b][T - 1].end());
    hb.insert(hb.end(), r[b][T - 1].begin(), r[b][T - 1].end());
  }
  expect_near(out[0], hf, "forward output");
  expect_near(out[1], hb, "backward output");
  expect_near(out[2], hf, "forward h");
  expect_near(out[4], hb, "backward h");
  for (const Tensor& t : out) EXPECT_EQ(t.shape(), (Shape{B, U}));
  EXPECT_EQ(bi.compute_output_shapes({{-1, T, F}}).size(), 6u);
  EXPECT_TRUE(bi.get_config()["merge_mode"].is_null());
}

TEST(Bidirectional, InitialStatesGoHalfToEachDirection) {
  const Tensor x = randn({B, T, F}, 4), h0 = randn({B, U}, 5), c0 = randn({B, U}, 6);
  const Tensor zeros = Tensor::zeros({B, U});
  layers::Bidirectional bi{layers::LSTM(U)};
  const Tensor plain = bi(x);
  const Tensor fwd_state = bi(std::vector<Tensor>{x, h0, c0, zeros, zeros})[0];
  const Tensor back_state = bi(std::vector<Tensor>{x, zeros, zeros, h0, c0})[0];
  // Forward states change the forward half only, backward states the backward half.
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t k = 0; k < U; ++k) {
      EXPECT_NE(fwd_state.at<float>({b, k}), plain.at<float>({b, k}));
      EXPECT_EQ(fwd_state.at<float>({b, U + k}), plain.at<float>({b, U + k}));
      EXPECT_EQ(back_state.at<float>({b, k}), plain.at<float>({b, k}));
      EXPECT_NE(back_state.at<float>({b, U + k}), plain.at<float>({b, U + k}));
    }
  }
  EXPECT_EQ(error_of([&] { bi(std::vector<Tensor>{x, h0, c0}); }),
            "Bidirectional '" + bi.name() +
                "': expected the input, or the input and 4 initial states (h and c of the forward layer, then of "
                "the backward layer), got 3 inputs");
}

TEST(Bidirectional, NamesItsVariablesAndCheckpointEdgesAsKeras) {
  keel::testing::TempDir dir;
  auto model = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Bidirectional(layers::LSTM(layers::LSTMOptions(U).name("rnn")),
                            "concat"),
      layers::Dense(1)});
  model->maybe_build(Shape{-1, T, F});
  auto* bi = dynamic_cast<layers::Bidirectional*>(model->layers()[0].get());
  ASSERT_NE(bi, nullptr);
  const std::string p = bi->name() + "/";
  std::vector<std::string> names;
  for (const Variable& v : bi->weights()) names.push_back(v.name());
  EXPECT_EQ(names, (std::vector<std::string>{p + "forward_rnn/lstm_cell/kernel", p + "forward_rnn/lstm_cell/recurrent_kernel",
                                             p + "forward_rnn/lstm_cell/bias", p + "backward_rnn/lstm_cell/kernel",
                                             p + "backward_rnn/lstm_cell/recurrent_kernel",
                                             p + "backward_rnn/lstm_cell/bias"}));
  EXPECT_EQ(bi->count_params(), 2 * (F * 4 * U + U * 4 * U + 4 * U));
  EXPECT_TRUE(bi->backward_layer()->options().go_backwards_);
  EXPECT_FALSE(bi->forward_layer()->options().go_backwards_);

  Checkpoint ckpt({{"model", model}});
  BundleReader r(ckpt.write(dir / "ckpt"));
  for (const char* dirn : {"forward_layer", "backward_layer"})
    for (const char* w : {"kernel", "recurrent_kernel", "bias"})
      EXPECT_TRUE(r.contains(std::string("model/layer_with_weights-0/") + dirn + "/cell/" + w +
                             "/.ATTRIBUTES/VARIABLE_VALUE"))
          << dirn << " " << w;

  const Json c = bi->get_config();
  EXPECT_EQ(c["layer"]["class_name"], "LSTM");
  EXPECT_EQ(c["layer"]["config"]["name"], "rnn");
  EXPECT_EQ(c["merge_mode"], "concat");
  EXPECT_FALSE(c.contains("backward_layer"));
}

TEST(Bidirectional, ConfigAndH5RoundTripsGiveTheSameModel) {
  keel::testing::TempDir dir;
  auto inputs = Input({T, F});
  auto h = layers::Bidirectional(layers::LSTM(layers::LSTMOptions(U).return_sequences(true)), "sum")(inputs);
  auto outputs = layers::Bidirectional(
      layers::BidirectionalOptions(layers::LSTM(U)).backward_layer(layers::LSTM(layers::LSTMOptions(U).go_backwards(true))))(h);
  auto model = std::make_shared<Model>(inputs, outputs);
  const Tensor x = randn({B, T, F}, 7);
  const Tensor y = model->predict(x, PredictOptions().verbose(0));

  auto rebuilt = model_from_json(model->to_json());
  EXPECT_EQ(rebuilt->get_config(), model->get_config());
  rebuilt->set_weights(model->get_weights());
  EXPECT_TRUE(rebuilt->predict(x, PredictOptions().verbose(0)).equal(y));
  EXPECT_TRUE(model->get_config()["layers"][2]["config"].contains("backward_layer"));

  model->save(dir / "bi.h5");
  auto loaded = load_model(dir / "bi.h5");
  EXPECT_TRUE(loaded->predict(x, PredictOptions().verbose(0)).equal(y));
  model->save(dir / "bi_dir");
  EXPECT_TRUE(load_model(dir / "bi_dir")->predict(x, PredictOptions().verbose(0)).equal(y));
}

TEST(Bidirectional, BadArgumentsAreErrorsNamingTheLayers) {
  using layers::BidirectionalOptions;
  using layers::LSTMOptions;
  auto bi = [](BidirectionalOptions o) { layers::Bidirectional b(o.name("bi")); };
  EXPECT_EQ(error_of([&] { bi(BidirectionalOptions(layers::Dense(layers::DenseOptions(3).name("d")))); }),
            "Bidirectional 'bi': the wrapped layer must be an RNN layer (LSTM), got Dense 'd'");
  EXPECT_EQ(error_of([&] { bi(BidirectionalOptions(layers::LSTM(2)).merge_mode("max")); }),
            "Bidirectional 'bi': invalid merge_mode 'max'; expected one of concat, sum, ave, mul, or none");
  EXPECT_EQ(error_of([&] {
              bi(BidirectionalOptions(layers::LSTM(LSTMOptions(2).name("f")))
                     .backward_layer(layers::LSTM(LSTMOptions(2).name("b"))));
            }),
            "Bidirectional 'bi': the forward layer 'forward_f' and the backward layer 'backward_b' must differ in "
            "go_backwards; both have false");
  EXPECT_EQ(error_of([&] {
              bi(BidirectionalOptions(layers::LSTM(LSTMOptions(2).name("f")))
                     .backward_layer(layers::LSTM(LSTMOptions(2).name("b").go_backwards(true).return_sequences(true))));
            }),
            "Bidirectional 'bi': the forward layer 'forward_f' has return_sequences=false but the backward layer "
            "'backward_b' has return_sequences=true");
  layers::Bidirectional ok(BidirectionalOptions(layers::LSTM(2)).name("bi2"));
  EXPECT_EQ(error_of([&] { ok(Tensor::zeros({2, 3})); }), "Bidirectional 'bi2': expected input of rank 3, got [2,3]");
  EXPECT_EQ(error_of([] {
              layer_from_config({{"class_name", "Bidirectional"}, {"config", {{"name", "b"}, {"merge_mode", "sum"}}}});
            }),
            "Bidirectional 'b': the config has no 'layer' entry ({\"class_name\": \"LSTM\", \"config\": {...}})");
  layers::LSTM built(2);
  built(Tensor::zeros({1, 3, 2}));
  EXPECT_EQ(error_of([&] { built.set_weight_scope("outer"); }),
            "LSTM '" + built.name() + "': the weight scope 'outer' must be set before the layer is built");
}

// Each 28x28 image read as 28 rows of 28 pixels: a bidirectional LSTM learns the classes from a small
// subset well above chance (10%) in two epochs.
TEST(Bidirectional, LearnsFashionMnistImagesReadRowByRow) {
  const auto& d = keel::testing::fashion_subset(2000, 500);
  const Tensor x_train = d.x_train.view({2000, 28, 28}), x_test = d.x_test.view({500, 28, 28});
  Sequential model({layers::Bidirectional(layers::BidirectionalOptions(layers::LSTM(32)).input_shape({28, 28})),
                    layers::Dense(10)});
  model.compile(CompileOptions()
                    .optimizer("adam")
                    .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                    .metrics({"accuracy"}));
  auto history = model.fit(x_train, d.y_train, FitOptions().epochs(2).seed(1).verbose(0));
  const Logs scores = model.evaluate(x_test, d.y_test, EvaluateOptions().verbose(0));
  EXPECT_LT(history->at("loss")[1], history->at("loss")[0]);
  EXPECT_GT(scores.at("accuracy"), 0.6) << scores.at("accuracy");
  std::cout << "bidirectional LSTM test accuracy " << scores.at("accuracy") << "\n";
}
