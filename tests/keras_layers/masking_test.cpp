// Keras's masking: Embedding(mask_zero) starts a mask that Dense/Dropout pass on and LSTM and
// Bidirectional skip, so a padded sequence gives what the unpadded one gives; the mask of a
// return_sequences output weights the loss and metrics; a mask reaching a layer that cannot take one
// is an error naming it. Proven on Fashion-MNIST images read as sequences of row tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "error_of.h"
#include "fashion_subset.h"
#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;
using keel::test::error_of;

namespace {

constexpr int64_t kVocab = 20, kDim = 3, kUnits = 4;

// Rows of ids (0 = padding), padded at the front or the back to `len`.
Tensor padded(const std::vector<std::vector<int32_t>>& rows, int64_t len, bool front) {
  Tensor t = Tensor::zeros({static_cast<int64_t>(rows.size()), len}, DType::i32);
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t off = front ? len - static_cast<int64_t>(rows[r].size()) : 0;
    for (size_t i = 0; i < rows[r].size(); ++i) t.data<int32_t>()[r * len + off + i] = rows[r][i];
  }
  return t;
}

const std::vector<std::vector<int32_t>> kRows = {{3, 7, 1, 9, 4}, {5, 2}, {8, 8, 6}};

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

// The model's output for each row alone, unpadded, stacked.
Tensor row_by_row(Sequential& model) {
  std::vector<float> out;
  Shape shape;
  for (const auto& r : kRows) {
    const Tensor y = model(padded({r}, static_cast<int64_t>(r.size()), false));
    out.insert(out.end(), y.data<float>(), y.data<float>() + y.numel());
    shape = y.shape();
  }
  shape[0] = static_cast<int64_t>(kRows.size());
  return Tensor::from_vector<float>(out, shape);
}

}  // namespace

TEST(Masking, PaddedSequencesGiveTheUnpaddedResultThroughLstmAndBidirectional) {
  auto embed = [] { return layers::Embedding(layers::EmbeddingOptions(kVocab, kDim).mask_zero(true)); };
  Sequential lstm({embed(), layers::Dense(layers::DenseOptions(kDim).activation("tanh")), layers::LSTM(kUnits)});
  Sequential bi({embed(), layers::Bidirectional(layers::LSTM(kUnits))});
  Sequential bi_seq({embed(), layers::Bidirectional(layers::LSTM(layers::LSTMOptions(kUnits).return_sequences(true))),
                     layers::LSTM(kUnits)});
  for (Sequential* m : {&lstm, &bi, &bi_seq}) {
    const Tensor want = row_by_row(*m);
    for (bool front : {false, true}) {
      const Tensor got = (*m)(padded(kRows, 8, front));
      EXPECT_LT(max_abs_diff(got, want), 1e-6) << m->layers()[1]->class_name() << (front ? " pre" : " post");
    }
  }
  // Without mask_zero the padding is read as data.
  Sequential plain({layers::Embedding(kVocab, kDim), layers::LSTM(kUnits)});
  EXPECT_GT(max_abs_diff(plain(padded(kRows, 8, true)), row_by_row(plain)), 1e-4);
}

TEST(Masking, ReturnSequencesOutputsKeepTheMaskAndItWeightsLossAndMetrics) {
  auto ids = Input(InputOptions({6}).dtype(DType::i32));
  auto h = layers::Embedding(layers::EmbeddingOptions(kVocab, kDim).mask_zero(true))(ids);
  h = layers::LSTM(layers::LSTMOptions(kUnits).return_sequences(true))(h);
  auto out = layers::Dense(layers::DenseOptions(3).activation("softmax"))(h);
  Model model(ids, out);
  model.compile(CompileOptions().optimizer("sgd").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  const Tensor x = padded(kRows, 6, false);
  Tensor y = Tensor::zeros({3, 6}, DType::i32);
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(i % 3);

  const Tensor p = model.predict(x, PredictOptions().verbose(0));
  ASSERT_EQ(model.last_output_masks().size(), 1u);
  const Tensor mask = model.last_output_masks()[0];
  ASSERT_TRUE(mask.defined());
  EXPECT_EQ(mask.shape(), (Shape{3, 6}));
  // Keras: sum over the valid steps of -log p(label) over all N * T steps; accuracy over valid steps.
  double loss = 0, hits = 0, valid = 0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t t = 0; t < 6; ++t) {
      if (!mask.data<bool>()[n * 6 + t]) continue;
      EXPECT_EQ(mask.data<bool>()[n * 6 + t], t < static_cast<int64_t>(kRows[n].size()));
      const float* probs = p.data<float>() + (n * 6 + t) * 3;
      const int32_t label = y.data<int32_t>()[n * 6 + t];
      loss -= std::log(double(probs[label]));
      const int64_t best = std::max_element(probs, probs + 3) - probs;
      hits += best == label;
      valid += 1;
    }
  const Logs scores = model.evaluate(x, y, EvaluateOptions().verbose(0));
  EXPECT_NEAR(scores.at("loss"), loss / 18, 1e-5);
  EXPECT_NEAR(scores.at("accuracy"), hits / valid, 1e-6);
}

TEST(Masking, AMaskReachingALayerThatCannotTakeOneIsAnErrorNamingIt) {
  Sequential model({layers::Embedding(layers::EmbeddingOptions(kVocab, kDim).mask_zero(true)),
                    layers::Flatten(layers::FlattenOptions().name("flat"))});
  EXPECT_EQ(error_of([&] { model(padded(kRows, 5, false)); }),
            "Flatten 'flat': does not support masking, but its input has a mask [3,5] (from an Embedding with "
            "mask_zero=true, or a layer passing its mask on)");
  layers::Embedding e(layers::EmbeddingOptions(kVocab, kDim).mask_zero(true));
  EXPECT_EQ(e.get_config()["mask_zero"], true);
  auto again = layer_from_config({{"class_name", "Embedding"}, {"config", e.get_config()}});
  EXPECT_EQ(again->get_config()["mask_zero"], true);
}

// Images as sequences of row tokens (1 + 8 levels of the row's mean brightness x 8 of its lit width),
// padded with 0 before and after by different amounts: a masked Embedding + Bidirectional LSTM learns the classes well above
// chance, and its predictions do not depend on the padding.
TEST(Masking, LearnsFashionMnistRowTokensAndIgnoresPadding) {
  const auto& d = keel::testing::fashion_subset(2000, 500);
  constexpr int64_t kPad = 6, kLen = 28 + kPad;
  auto tokens = [&](const Tensor& images, int64_t pad_of_row_mod) {
    const int64_t n = images.size(0);
    Tensor t = Tensor::zeros({n, kLen}, DType::i32);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pad = (i % pad_of_row_mod) * kPad / std::max<int64_t>(pad_of_row_mod - 1, 1);
      for (int64_t r = 0; r < 28; ++r) {
        double sum = 0;
        int64_t first = 28, last = -1;  // the row's lit extent
        for (int64_t c = 0; c < 28; ++c) {
          const float v = images.data<float>()[i * 784 + r * 28 + c];
          sum += v;
          if (v > 0.2f) first = std::min(first, c), last = c;
        }
        const int32_t brightness = static_cast<int32_t>(std::min(7.0, sum / 28 * 8));
        const int32_t width = last < first ? 0 : static_cast<int32_t>(std::min<int64_t>(7, (last - first) / 4));
        t.data<int32_t>()[i * kLen + kPad - pad + r] = 1 + brightness * 8 + width;
      }
    }
    return t;
  };
  // Row i's 28 tokens start at step kPad - pad: zeros before them and after them.
  Sequential model({layers::Embedding(layers::EmbeddingOptions(65, 8).mask_zero(true).input_length(kLen)),
                    layers::Bidirectional(layers::LSTM(16)), layers::Dense(10)});
  model.compile(CompileOptions()
                    .optimizer("adam")
                    .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                    .metrics({"accuracy"}));
  model.fit(tokens(d.x_train, 4), d.y_train, FitOptions().epochs(5).seed(2).verbose(0));
  const Tensor x_a = tokens(d.x_test, 4), x_b = tokens(d.x_test, 1);  // other paddings, same rows
  const Logs scores = model.evaluate(x_a, d.y_test, EvaluateOptions().verbose(0));
  EXPECT_GT(scores.at("accuracy"), 0.35) << scores.at("accuracy");  // 0.484 here; chance is 0.1
  std::cout << "masked row-token model test accuracy " << scores.at("accuracy") << "\n";
  const Tensor p_a = model.predict(x_a, PredictOptions().verbose(0)), p_b = model.predict(x_b, PredictOptions().verbose(0));
  EXPECT_LT(max_abs_diff(p_a, p_b), 1e-5);
}
