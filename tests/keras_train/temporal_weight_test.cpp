// Keras's temporal sample weights ([N, T] for a sequence output) on real Fashion-MNIST images read row by
// row: an LSTM(return_sequences) tags every one of the 28 rows with the image's class, and the weights
// mask the first rows out. A masked step's target does not matter at all (bit for bit); the loss is
// Σ w·l / (N·T) and the weighted accuracy Σ w·correct / Σ w over the steps, checked against sums by hand
// from predict; weights that do not fit the steps are errors naming both shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "keel/keras/layers/layers.h"
#include "keel/keras/model.h"
#include "keel/keras/sequential.h"
#include "fashion_subset.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;
using keel::test::error_of;

namespace {

constexpr int64_t kSteps = 28, kMaskedSteps = 14, kClasses = 10;

struct Sequences {
  Tensor x, y, w;  // [N, 28, 28] rows of pixels, [N, 28] the class at every row, [N, 28] 0 then 1
};

Sequences sequences(const Tensor& flat_images, const Tensor& labels) {
  const int64_t n = flat_images.size(0);
  const std::vector<int64_t> label = labels.to(DType::i64).to_vector<int64_t>();
  std::vector<int64_t> y;
  std::vector<float> w;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t t = 0; t < kSteps; ++t) {
      y.push_back(label[static_cast<size_t>(i)]);
      w.push_back(t < kMaskedSteps ? 0.0f : 1.0f);
    }
  return {flat_images.view({n, kSteps, 28}), Tensor::from_vector<int64_t>(y, {n, kSteps}),
          Tensor::from_vector<float>(w, {n, kSteps})};
}

// The first 512 training and 256 test images, as sequences.
struct Splits {
  Sequences train, test;
};
const Splits& splits() {
  static const Splits s = [] {
    const auto& d = keel::testing::fashion_subset(512, 256);
    return Splits{sequences(d.x_train, d.y_train), sequences(d.x_test, d.y_test)};
  }();
  return s;
}
const Sequences& train() { return splits().train; }
const Sequences& test_set() { return splits().test; }

std::shared_ptr<Sequential> tagger() {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::LSTM(layers::LSTMOptions(16).return_sequences(true).input_shape({kSteps, 28})),
      layers::Dense(layers::DenseOptions(kClasses))});
  m->compile(CompileOptions()
                 .optimizer("adam")
                 .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                 .metrics({"accuracy"})
                 .weighted_metrics({"accuracy"}));
  return m;
}

}  // namespace

// Steps of weight 0 take no part in training: their targets replaced by wrong classes, the model trains
// to the same weights bit for bit, with the same loss and weighted accuracy; the plain accuracy, which
// ignores the weights (Keras 2.4), sees the changed targets.
TEST(TemporalWeight, MaskedStepsDoNotTrain) {
  const Sequences& s = train();
  std::vector<int64_t> wrong = s.y.to_vector<int64_t>();
  for (size_t i = 0; i < wrong.size(); ++i)
    if (static_cast<int64_t>(i) % kSteps < kMaskedSteps) wrong[i] = (wrong[i] + 1) % kClasses;
  const Tensor y_wrong = Tensor::from_vector<int64_t>(wrong, s.y.shape());

  auto a = tagger(), b = tagger();
  b->set_weights(a->get_weights());
  const FitOptions options = FitOptions().epochs(1).batch_size(32).seed(5).verbose(0).sample_weight(s.w);
  const auto ha = a->fit(s.x, s.y, options);
  const auto hb = b->fit(s.x, y_wrong, options);
  EXPECT_EQ(ha->at("loss"), hb->at("loss"));
  EXPECT_EQ(ha->at("weighted_accuracy"), hb->at("weighted_accuracy"));
  EXPECT_NE(ha->at("accuracy"), hb->at("accuracy"));
  const auto wa = a->get_weights(), wb = b->get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].equal(wb[i])) << "weight " << i;

  // Without the weights the wrong targets train another model.
  auto c = tagger(), e = tagger();
  c->set_weights(a->get_weights());
  e->set_weights(a->get_weights());
  c->fit(s.x, s.y, FitOptions().epochs(1).seed(5).verbose(0));
  e->fit(s.x, y_wrong, FitOptions().epochs(1).seed(5).verbose(0));
  EXPECT_FALSE(c->get_weights()[0].equal(e->get_weights()[0]));
}

// evaluate with [N, T] weights: the loss divides Σ w·l by the number of per-step losses N·T (Keras's
// SUM_OVER_BATCH_SIZE), the weighted accuracy by Σ w; both by hand from predict's logits.
TEST(TemporalWeight, LossAndWeightedAccuracyAreSumsOverTheSteps) {
  auto model = tagger();
  model->fit(train().x, train().y, FitOptions().epochs(6).batch_size(16).seed(6).verbose(0).sample_weight(train().w));
  const Sequences& s = test_set();
  const int64_t n = s.x.size(0);
  const std::vector<float> z = model->predict(s.x).to_vector<float>();  // [N, T, 10] logits
  const std::vector<int64_t> y = s.y.to_vector<int64_t>();
  const std::vector<float> w = s.w.to_vector<float>();
  double loss = 0, correct = 0, weight = 0, plain_correct = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const float* row = z.data() + i * kClasses;
    const int64_t best = std::max_element(row, row + kClasses) - row;
    double sum = 0;
    for (int64_t j = 0; j < kClasses; ++j) sum += std::exp(static_cast<double>(row[j]) - row[best]);
    loss += w[i] * (row[best] + std::log(sum) - row[y[i]]);
    correct += w[i] * (best == y[i]);
    plain_correct += best == y[i];
    weight += w[i];
  }
  loss /= static_cast<double>(n * kSteps);
  const Logs logs = model->evaluate(s.x, s.y, EvaluateOptions().sample_weight(s.w).verbose(0));
  EXPECT_NEAR(logs.at("loss"), loss, 1e-5 * loss);
  EXPECT_NEAR(logs.at("weighted_accuracy"), correct / weight, 1e-6);
  EXPECT_NEAR(logs.at("accuracy"), plain_correct / static_cast<double>(y.size()), 1e-6);
  // The last rows see the whole image: tagging there beats chance by far after one short epoch.
  EXPECT_GT(logs.at("weighted_accuracy"), 0.4);
}

TEST(TemporalWeight, WeightsThatDoNotFitTheStepsAreErrors) {
  const Sequences& s = test_set();
  auto model = tagger();
  const int64_t n = s.x.size(0);
  EXPECT_EQ(error_of([&] { model->test_on_batch(s.x, s.y, Tensor::ones({n, kSteps - 1})); }),
            "SparseCategoricalCrossentropy 'sparse_categorical_crossentropy': sample_weight [256,27] does not fit "
            "the per-sample losses [256,28] of y_true [256,28] and y_pred [256,28,10]: give one weight per sample "
            "or one per loss");
  EXPECT_EQ(error_of([&] { model->test_on_batch(s.x, s.y, Tensor::ones({n, kSteps, 2})); }),
            "test_on_batch: sample_weight has shape [256,28,2], but y has shape [256,28]: give one weight per "
            "sample (shape [256]) or, for a sequence output, one per step (shape [256,28])");
  EXPECT_EQ(error_of([&] {
              model->fit(s.x, s.y, FitOptions().verbose(0).sample_weight(s.w).class_weight(
                                       {{0, 1.0}, {1, 1.0}, {2, 1.0}, {3, 1.0}, {4, 1.0}, {5, 1.0}, {6, 1.0},
                                        {7, 1.0}, {8, 1.0}, {9, 1.0}}));
            }),
            "fit: class_weight needs one f32 sample_weight per sample of y [256,28]; got [256,28] (class_weight "
            "with per-step weights of a sequence is not supported, as in Keras: multiply the class weights into "
            "the sample_weight instead)");
}
