// Keras 2.4's per-sample weighting on real Fashion-MNIST images: class_weight is the same training as its
// per-sample weights (bit for bit) and raises the recall of the class it weights up; the loss and the
// weighted metrics take the weights (checked against sums computed by hand from predict's logits) while
// the plain metrics do not; validation_data's third array and validation_split carry the weights; a
// model with two outputs weights each output by its own array.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "keel/keras/layers/layers.h"
#include "keel/keras/model.h"
#include "keel/keras/sequential.h"
#include "fashion_subset.h"

using namespace keel;
using namespace keel::keras;

namespace {

const keel::testing::FashionSubset& data() { return keel::testing::fashion_subset(2000, 1000); }

CompileOptions weighted_compile() {
  return CompileOptions()
      .optimizer("adam")
      .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
      .metrics({"accuracy"})
      .weighted_metrics({"accuracy"});
}

// A small MLP with fixed initial weights, so that two models start identical.
std::shared_ptr<Sequential> mlp() {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(32).activation("relu").input_shape({784}).kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(11))),
      layers::Dense(layers::DenseOptions(10).kernel_initializer(std::make_shared<initializers::GlorotUniform>(12)))});
  m->compile(weighted_compile());
  return m;
}

std::vector<int64_t> labels_of(const Tensor& y) { return y.to(DType::i64).to_vector<int64_t>(); }

// Per sample: the softmax cross-entropy of the logits and whether the first maximum is the label.
struct ByHand {
  std::vector<double> loss, correct;
};
ByHand by_hand(const Tensor& logits, const Tensor& y) {
  const std::vector<float> z = logits.to_vector<float>();
  const std::vector<int64_t> label = labels_of(y);
  const int64_t c = logits.size(1);
  ByHand out;
  for (size_t i = 0; i < label.size(); ++i) {
    const float* row = z.data() + static_cast<int64_t>(i) * c;
    const int64_t best = std::max_element(row, row + c) - row;
    double top = row[best], sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j]) - top);
    out.loss.push_back(top + std::log(sum) - row[label[i]]);
    out.correct.push_back(best == label[i] ? 1.0 : 0.0);
  }
  return out;
}

// Σ w·v / Σ w (weights omitted: the plain mean).
double weighted_mean(const std::vector<double>& v, const std::vector<float>& w = {}) {
  double s = 0, ws = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    s += wi * v[i];
    ws += wi;
  }
  return s / ws;
}

// Weights 0, 1 and 3 in turn: a third of the samples do not count at all.
Tensor zero_one_three(int64_t n) {
  std::vector<float> w;
  for (int64_t i = 0; i < n; ++i) w.push_back(static_cast<float>(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 3));
  return Tensor::from_vector<float>(w, {n});
}

void expect_same_weights(Model& a, Model& b) {
  const auto wa = a.weights(), wb = b.weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i)
    EXPECT_EQ(wa[i].value().to_vector<float>(), wb[i].value().to_vector<float>()) << wa[i].name();
}

}  // namespace

// Keras turns class_weight into per-sample weights of the training data only: the same weights given as
// sample_weight (and 1 on the validation rows, which class_weight leaves alone) train the same model.
TEST(SampleWeight, ClassWeightIsItsPerSampleWeights) {
  const auto& d = data();
  const ClassWeight cw{{0, 1.0},  {1, 0.5}, {2, 2.0}, {3, 1.0}, {4, 3.0},
                       {5, 0.25}, {6, 5.0}, {7, 1.0}, {8, 1.5}, {9, 0.75}};
  const int64_t n = d.x_train.size(0), train_rows = n * 3 / 4;  // validation_split 0.25 keeps the last quarter
  std::vector<float> w;
  const std::vector<int64_t> label = labels_of(d.y_train);
  for (int64_t i = 0; i < n; ++i) w.push_back(i < train_rows ? static_cast<float>(cw.at(label[i])) : 1.0f);
  const auto opts = FitOptions().epochs(2).batch_size(64).validation_split(0.25).seed(4).verbose(0);

  auto by_class = mlp();
  auto by_sample = mlp();
  auto h1 = by_class->fit(d.x_train, d.y_train, FitOptions(opts).class_weight(cw));
  auto h2 = by_sample->fit(d.x_train, d.y_train, FitOptions(opts).sample_weight(Tensor::from_vector<float>(w, {n})));
  EXPECT_EQ(h1->keys(), (std::vector<std::string>{"loss", "accuracy", "weighted_accuracy", "val_loss", "val_accuracy",
                                                  "val_weighted_accuracy"}));
  for (const auto& key : h1->keys()) EXPECT_EQ(h1->at(key), h2->at(key)) << key;
  expect_same_weights(*by_class, *by_sample);
  // The weighting is seen: the weighted accuracy is not the plain one, and the loss not that of no weights.
  auto plain = mlp();
  auto h3 = plain->fit(d.x_train, d.y_train, opts);
  EXPECT_NE(h1->at("weighted_accuracy"), h1->at("accuracy"));
  EXPECT_NE(h1->at("loss"), h3->at("loss"));
  EXPECT_EQ(h3->at("weighted_accuracy"), h3->at("accuracy"));  // no weights: the same mean

  // class_weight and sample_weight multiply (train_on_batch takes both, as Keras's).
  using keel::keras::detail::take_rows;
  const Tensor x = take_rows(d.x_train, 0, 256), y = take_rows(d.y_train, 0, 256);
  const Tensor sw = zero_one_three(256);
  const std::vector<float> swv = sw.to_vector<float>();
  std::vector<float> product;
  for (size_t i = 0; i < 256; ++i) product.push_back(swv[i] * static_cast<float>(cw.at(label[i])));
  auto a = mlp();
  auto b = mlp();
  EXPECT_EQ(a->train_on_batch(x, y, sw, cw), b->train_on_batch(x, y, Tensor::from_vector<float>(product, {256})));
  expect_same_weights(*a, *b);
}

// Shirts (class 6) are the class Fashion-MNIST models miss most; weighting them 5x in training makes the
// model call more test images shirts, so it finds more of the real ones.
TEST(SampleWeight, ClassWeightRaisesTheRecallOfTheWeightedClass) {
  const auto& d = data();
  ClassWeight cw;
  for (int64_t c = 0; c < 10; ++c) cw[c] = c == 6 ? 5.0 : 1.0;
  const auto opts = FitOptions().epochs(3).batch_size(64).seed(8).verbose(0);
  auto plain = mlp();
  auto weighted = mlp();
  plain->fit(d.x_train, d.y_train, opts);
  weighted->fit(d.x_train, d.y_train, FitOptions(opts).class_weight(cw));
  auto recall_of_6 = [&](Model& m) {
    const ByHand h = by_hand(m.predict(d.x_test), d.y_test);
    const std::vector<int64_t> label = labels_of(d.y_test);
    double found = 0, shirts = 0;
    for (size_t i = 0; i < label.size(); ++i) {
      if (label[i] != 6) continue;
      shirts += 1;
      found += h.correct[i];
    }
    return found / shirts;
  };
  const double before = recall_of_6(*plain), after = recall_of_6(*weighted);
  EXPECT_GT(after, before + 0.3) << "recall of class 6: " << before << " without class_weight, " << after << " with";
}

// evaluate and test_on_batch: the loss is Σ w·l / N (zero weights count in N, as Keras's
// SUM_OVER_BATCH_SIZE), the weighted accuracy Σ w·correct / Σ w, the plain accuracy ignores the weights.
TEST(SampleWeight, LossAndWeightedMetricsMatchTheSumsByHand) {
  const auto& d = data();
  auto model = mlp();
  model->fit(d.x_train, d.y_train, FitOptions().epochs(1).seed(2).verbose(0));
  const int64_t n = d.x_test.size(0);
  const Tensor w = zero_one_three(n);
  const std::vector<float> wv = w.to_vector<float>();
  const ByHand h = by_hand(model->predict(d.x_test), d.y_test);
  double weighted_loss = 0;
  for (int64_t i = 0; i < n; ++i) weighted_loss += wv[static_cast<size_t>(i)] * h.loss[static_cast<size_t>(i)];
  weighted_loss /= static_cast<double>(n);
  const double weighted_acc = weighted_mean(h.correct, wv), plain_acc = weighted_mean(h.correct);
  ASSERT_GT(std::abs(weighted_acc - plain_acc), 1e-3);  // the weights change the answer on these images

  for (const Logs& logs : {model->evaluate(d.x_test, d.y_test, EvaluateOptions().sample_weight(w).verbose(0)),
                           model->test_on_batch(d.x_test, d.y_test, w)}) {
    EXPECT_NEAR(logs.at("loss"), weighted_loss, 1e-5 * weighted_loss);
    EXPECT_NEAR(logs.at("weighted_accuracy"), weighted_acc, 1e-6);
    EXPECT_NEAR(logs.at("accuracy"), plain_acc, 1e-6);
  }
  const Logs unweighted = model->evaluate(d.x_test, d.y_test, EvaluateOptions().verbose(0));
  EXPECT_NEAR(unweighted.at("loss"), weighted_mean(h.loss), 1e-5 * unweighted.at("loss"));
  EXPECT_EQ(unweighted.at("weighted_accuracy"), unweighted.at("accuracy"));
}

// validation_data's third array and validation_split's last fraction of sample_weight weight the
// validation: val_loss and val_weighted_accuracy are what evaluate gives with the same weights.
TEST(SampleWeight, ValidationCarriesTheWeights) {
  const auto& d = data();
  const int64_t n = d.x_train.size(0);
  const Tensor w = zero_one_three(n), w_test = zero_one_three(d.x_test.size(0));
  auto with_data = mlp();
  auto h = with_data->fit(d.x_train, d.y_train, FitOptions().epochs(1).seed(3).verbose(0).validation_data(
                                                    d.x_test, d.y_test, w_test));
  const Logs val = with_data->evaluate(d.x_test, d.y_test, EvaluateOptions().sample_weight(w_test).verbose(0));
  EXPECT_EQ(h->at("val_loss")[0], val.at("loss"));
  EXPECT_EQ(h->at("val_weighted_accuracy")[0], val.at("weighted_accuracy"));
  EXPECT_NE(h->at("val_loss")[0], with_data->evaluate(d.x_test, d.y_test, EvaluateOptions().verbose(0)).at("loss"));
  // As Arrays (a list of one per output) too.
  auto listed = mlp();
  auto h_list = listed->fit(d.x_train, d.y_train, FitOptions().epochs(1).seed(3).verbose(0).validation_data(
                                                      Arrays{d.x_test}, Arrays{d.y_test}, Arrays{w_test}));
  EXPECT_EQ(h_list->at("val_loss"), h->at("val_loss"));

  // validation_split 0.2: training on the first 1600 rows with their weights, validation on the last 400.
  auto split = mlp();
  auto hs = split->fit(d.x_train, d.y_train, FitOptions().epochs(1).seed(3).verbose(0).validation_split(0.2)
                                                 .sample_weight(w));
  using keel::keras::detail::take_rows;
  const Logs tail = split->evaluate(take_rows(d.x_train, 1600, n), take_rows(d.y_train, 1600, n),
                                    EvaluateOptions().sample_weight(take_rows(w, 1600, n)).verbose(0));
  EXPECT_EQ(hs->at("val_loss")[0], tail.at("loss"));
  EXPECT_EQ(hs->at("val_weighted_accuracy")[0], tail.at("weighted_accuracy"));
  EXPECT_EQ(hs->at("val_accuracy")[0], tail.at("accuracy"));
}

// Two heads classifying the same images: one array weights both outputs; by name it weights only the
// outputs it names (the others are unweighted); the names follow Keras's "<output>_weighted_<name>".
TEST(SampleWeight, EachOutputTakesItsOwnWeights) {
  const auto& d = data();
  auto in = Input(InputOptions({784}).name("image"));
  auto h = layers::Dense(layers::DenseOptions(32).activation("relu").kernel_initializer(
      std::make_shared<initializers::GlorotUniform>(5)))(in);
  auto a = layers::Dense(layers::DenseOptions(10).name("a").kernel_initializer(
      std::make_shared<initializers::GlorotUniform>(6)))(h);
  auto b = layers::Dense(layers::DenseOptions(10).name("b").kernel_initializer(
      std::make_shared<initializers::GlorotUniform>(7)))(h);
  Model model(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{a, b});
  model.compile(weighted_compile());
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_accuracy",
                                                             "a_weighted_accuracy", "b_accuracy",
                                                             "b_weighted_accuracy"}));
  model.fit(d.x_train, {d.y_train, d.y_train}, FitOptions().epochs(1).seed(1).verbose(0));
  const int64_t n = d.x_test.size(0);
  const Tensor w = zero_one_three(n);
  const std::vector<float> wv = w.to_vector<float>();
  const std::vector<Tensor> preds = model.predict_multi(d.x_test);
  const ByHand ha = by_hand(preds[0], d.y_test), hb = by_hand(preds[1], d.y_test);
  auto sum_over_n = [&](const std::vector<double>& l) {
    double s = 0;
    for (size_t i = 0; i < wv.size(); ++i) s += wv[i] * l[i];
    return s / static_cast<double>(n);
  };
  const auto opts = EvaluateOptions().verbose(0);
  const Logs only_a = model.evaluate(d.x_test, {d.y_test, d.y_test},
                                     EvaluateOptions(opts).sample_weight(Arrays::by_name({{"a", w}})));
  EXPECT_NEAR(only_a.at("a_loss"), sum_over_n(ha.loss), 1e-5 * only_a.at("a_loss"));
  EXPECT_NEAR(only_a.at("b_loss"), weighted_mean(hb.loss), 1e-5 * only_a.at("b_loss"));
  EXPECT_NEAR(only_a.at("loss"), only_a.at("a_loss") + only_a.at("b_loss"), 1e-5 * only_a.at("loss"));
  EXPECT_NEAR(only_a.at("a_weighted_accuracy"), weighted_mean(ha.correct, wv), 1e-6);
  EXPECT_EQ(only_a.at("b_weighted_accuracy"), only_a.at("b_accuracy"));
  EXPECT_NEAR(only_a.at("a_accuracy"), weighted_mean(ha.correct), 1e-6);

  const Logs both = model.evaluate(d.x_test, {d.y_test, d.y_test}, EvaluateOptions(opts).sample_weight(w));
  EXPECT_EQ(both.at("a_loss"), only_a.at("a_loss"));
  EXPECT_NEAR(both.at("b_loss"), sum_over_n(hb.loss), 1e-5 * both.at("b_loss"));
  // A list in output order; an undefined Tensor leaves its output unweighted.
  const Logs none = model.evaluate(d.x_test, {d.y_test, d.y_test}, opts);
  const Logs as_list =
      model.evaluate(d.x_test, {d.y_test, d.y_test}, EvaluateOptions(opts).sample_weight({Tensor(), w}));
  EXPECT_EQ(as_list.at("a_loss"), none.at("a_loss"));
  EXPECT_EQ(as_list.at("b_loss"), both.at("b_loss"));
}
