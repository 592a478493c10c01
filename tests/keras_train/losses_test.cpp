// Keras loss objects: reduction, shape matching, names and configs, against plain reference formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "keel/autodiff/gradcheck.h"
#include "keel/graph/generator.h"
#include "keel/keras/losses.h"

using namespace keel;
using namespace keel::keras;

namespace {

const std::vector<double> kLogits = {1.0, 2.0, 0.5, -1.0, 0.0, 3.0};  // [2,3]

double log_softmax_at(const std::vector<double>& row, size_t k) {
  double mx = row[0];
  for (double v : row) mx = std::max(mx, v);
  double s = 0;
  for (double v : row) s += std::exp(v - mx);
  return row[k] - mx - std::log(s);
}

std::vector<double> row(const std::vector<double>& m, size_t r, size_t c) {
  return std::vector<double>(m.begin() + static_cast<long>(r * c), m.begin() + static_cast<long>((r + 1) * c));
}

}  // namespace

TEST(Losses, SparseCategoricalFromLogitsSumOverBatch) {
  SparseCategoricalCrossentropy loss(LossOptions().from_logits(true));
  auto logits = Tensor::from_vector<double>(kLogits, {2, 3});
  auto labels = Tensor::from_vector<int64_t>({1, 2});
  const double expect = -(log_softmax_at(row(kLogits, 0, 3), 1) + log_softmax_at(row(kLogits, 1, 3), 2)) / 2;
  EXPECT_NEAR(loss(labels, logits).item<double>(), expect, 1e-12);
  // Labels as [N,1] floats, like Keras accepts.
  EXPECT_NEAR(loss(Tensor::from_vector<double>({1, 2}, {2, 1}), logits).item<double>(), expect, 1e-12);
  // Sample weights: sum(w * l) / N.
  const double l0 = -log_softmax_at(row(kLogits, 0, 3), 1), l1 = -log_softmax_at(row(kLogits, 1, 3), 2);
  EXPECT_NEAR(loss(labels, logits, Tensor::from_vector<double>({2.0, 0.0})).item<double>(), (2 * l0) / 2, 1e-12);
  auto per_sample = SparseCategoricalCrossentropy(LossOptions().from_logits(true).reduction(Reduction::none))(labels, logits);
  ASSERT_EQ(per_sample.shape(), (Shape{2}));
  EXPECT_NEAR(per_sample.at<double>({1}), l1, 1e-12);
  EXPECT_NEAR(SparseCategoricalCrossentropy(LossOptions().from_logits(true).reduction(Reduction::sum))(labels, logits)
                  .item<double>(),
              l0 + l1, 1e-12);
}

TEST(Losses, CategoricalAndBinary) {
  auto probs = Tensor::from_vector<double>({0.2, 0.7, 0.1, 0.5, 0.25, 0.25}, {2, 3});
  auto onehot = Tensor::from_vector<double>({0, 1, 0, 1, 0, 0}, {2, 3});
  EXPECT_NEAR(CategoricalCrossentropy()(onehot, probs).item<double>(), -(std::log(0.7) + std::log(0.5)) / 2, 1e-9);
  // Label smoothing 0.3 over 3 classes: t * 0.7 + 0.1.
  double smoothed = 0;
  const std::vector<double> p = {0.2, 0.7, 0.1, 0.5, 0.25, 0.25}, t = {0, 1, 0, 1, 0, 0};
  for (size_t i = 0; i < 6; ++i) smoothed -= (t[i] * 0.7 + 0.1) * std::log(p[i]);
  EXPECT_NEAR(CategoricalCrossentropy(LossOptions().label_smoothing(0.3))(onehot, probs).item<double>(), smoothed / 2,
              1e-9);

  // Binary from logits, y_true [N] vs y_pred [N,1] (squeezed like Keras).
  auto z = Tensor::from_vector<double>({0.3, -1.2, 2.0}, {3, 1});
  auto y = Tensor::from_vector<double>({1, 0, 1});
  double bce = 0;
  const std::vector<double> zs = {0.3, -1.2, 2.0}, ys = {1, 0, 1};
  for (size_t i = 0; i < 3; ++i) {
    const double s = 1 / (1 + std::exp(-zs[i]));
    bce -= ys[i] * std::log(s) + (1 - ys[i]) * std::log(1 - s);
  }
  EXPECT_NEAR(BinaryCrossentropy(LossOptions().from_logits(true))(y, z).item<double>(), bce / 3, 1e-9);
}

TEST(Losses, RegressionLosses) {
  auto pred = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  auto target = Tensor::from_vector<int32_t>({1, 0, 5, 4}, {2, 2});  // cast to y_pred's dtype
  // MSE per sample: mean over last axis -> [2, 2]; reduced: 2.
  EXPECT_FLOAT_EQ(MeanSquaredError()(target, pred).item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(MeanAbsoluteError()(target, pred).item<float>(), 1.0f);
  // Empty batch: 0, like div_no_nan.
  EXPECT_EQ(MeanSquaredError()(Tensor::zeros({0, 2}), Tensor::zeros({0, 2})).item<float>(), 0.0f);
}

TEST(Losses, GradientsAreThoseOfTheMean) {
  Generator gen(3);
  auto labels = Tensor::from_vector<int64_t>({0, 2, 1, 2});
  SparseCategoricalCrossentropy sce(LossOptions().from_logits(true));
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return sce(labels, in[0]); },
                     {Tensor::normal({4, 3}, gen, 0, 1, DType::f64)});
  EXPECT_TRUE(r.ok) << r.message;
  auto target = Tensor::normal({4, 3}, gen, 0, 1, DType::f64);
  MeanSquaredError mse;
  auto r2 = gradcheck([&](const std::vector<Tensor>& in) { return mse(target, in[0], Tensor::from_vector<double>({1, 2, 0, 1})); },
                      {Tensor::normal({4, 3}, gen, 0, 1, DType::f64)});
  EXPECT_TRUE(r2.ok) << r2.message;
}

TEST(Losses, NamesAndConfigs) {
  EXPECT_EQ(loss_from_name("mse")->name(), "mean_squared_error");
  EXPECT_EQ(loss_from_name("MSE")->class_name(), "MeanSquaredError");
  EXPECT_EQ(loss_from_name("mae")->name(), "mean_absolute_error");
  EXPECT_EQ(loss_from_name("sparse_categorical_crossentropy")->class_name(), "SparseCategoricalCrossentropy");
  EXPECT_EQ(loss_from_name("categorical_crossentropy")->class_name(), "CategoricalCrossentropy");
  EXPECT_EQ(loss_from_name("binary_crossentropy")->class_name(), "BinaryCrossentropy");
  EXPECT_EQ(loss_from_name("BinaryCrossentropy")->name(), "binary_crossentropy");
  try {
    loss_from_name("hinge2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("loss 'hinge2' is not known", 0), 0u) << e.what();
  }
  // Keras 2.11's own config of SparseCategoricalCrossentropy(from_logits=True).
  auto keras = nlohmann::json::parse(
      R"({"reduction": "auto", "name": "sparse_categorical_crossentropy", "from_logits": true, "ignore_class": null})");
  EXPECT_EQ(SparseCategoricalCrossentropy(LossOptions().from_logits(true)).get_config(), keras);
  auto back = loss_from_config({{"class_name", "SparseCategoricalCrossentropy"}, {"config", keras}});
  EXPECT_EQ(back->get_config(), keras);
  auto cce = CategoricalCrossentropy(LossOptions().label_smoothing(0.1).name("cce")).get_config();
  EXPECT_EQ(cce, nlohmann::json::parse(
                     R"({"reduction": "auto", "name": "cce", "from_logits": false, "label_smoothing": 0.1, "axis": -1})"));
  EXPECT_EQ(loss_from_config({{"class_name", "CategoricalCrossentropy"}, {"config", cce}})->get_config(), cce);
  EXPECT_EQ(MeanSquaredError().get_config(), nlohmann::json::parse(R"({"reduction": "auto", "name": "mean_squared_error"})"));
  EXPECT_EQ(loss_from_config("mae")->class_name(), "MeanAbsoluteError");
  EXPECT_THROW(loss_from_config({{"class_name", "MeanSquaredError"}, {"config", {{"reduction", "mean"}}}}), Error);
}
