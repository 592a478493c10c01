// A functional model with two inputs (a Fashion-MNIST image and its mirror image) and two outputs (the
// class, sparse_categorical_crossentropy, and the image's mean brightness, mse), trained on 1,500 real
// images: it learns both, its loss is the weighted sum of the per-output losses, the logs carry Keras
// 2.4's names, validation_split takes the last fifth of every array, lists and arrays by name train
// alike, callbacks see the per-output logs, checkpoints track the per-output means in Keras's order and
// an .h5 file keeps the per-output compile arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <utility>
#include <sstream>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/model.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/training_config.h"
#include "fashion_subset.h"

using namespace keel;
using namespace keel::keras;

namespace {

struct TwoViews {
  Tensor image, mirror, label, brightness;  // [n,784], [n,784], [n], [n,1]
  int64_t size() const { return image.size(0); }
};

// The mirror image (columns reversed) and the mean pixel of each image, standardized as (b - center) /
// scale so that the regression loss is of the order of the classification loss.
TwoViews two_views(const Tensor& flat_images, const Tensor& labels, double center, double scale) {
  const int64_t n = flat_images.size(0);
  TwoViews v{flat_images, Tensor::empty({n, 784}), labels, Tensor::empty({n, 1})};
  const float* src = flat_images.data<float>();
  float* mirror = v.mirror.data<float>();
  float* bright = v.brightness.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int64_t r = 0; r < 28; ++r) {
      for (int64_t c = 0; c < 28; ++c) {
        mirror[i * 784 + r * 28 + c] = src[i * 784 + r * 28 + (27 - c)];
        sum += src[i * 784 + r * 28 + c];
      }
    }
    bright[i] = static_cast<float>((sum / 784.0 - center) / scale);
  }
  return v;
}

// The training images' mean brightness and its standard deviation over images.
std::pair<double, double> brightness_stats() {
  const TwoViews raw = two_views(keel::testing::fashion_subset(1500, 500).x_train, Tensor(), 0.0, 1.0);
  double sum = 0, sq = 0;
  for (float b : raw.brightness.to_vector<float>()) {
    sum += b;
    sq += static_cast<double>(b) * b;
  }
  const auto n = static_cast<double>(raw.size());
  return {sum / n, std::sqrt(sq / n - (sum / n) * (sum / n))};
}

const TwoViews& train_data() {
  static const TwoViews v = [] {
    const auto& d = keel::testing::fashion_subset(1500, 500);
    const auto [center, scale] = brightness_stats();
    return two_views(d.x_train, d.y_train, center, scale);
  }();
  return v;
}

const TwoViews& test_data() {
  static const TwoViews v = [] {
    const auto& d = keel::testing::fashion_subset(1500, 500);
    const auto [center, scale] = brightness_stats();
    return two_views(d.x_test, d.y_test, center, scale);
  }();
  return v;
}

TwoViews last_rows(const TwoViews& v, int64_t from) {
  using keras::detail::take_rows;
  const int64_t n = v.size();
  return {take_rows(v.image, from, n), take_rows(v.mirror, from, n), take_rows(v.label, from, n),
          take_rows(v.brightness, from, n)};
}

std::shared_ptr<initializers::GlorotUniform> glorot(uint64_t seed) {
  return std::make_shared<initializers::GlorotUniform>(seed);
}

// image, mirror -> Concatenate -> Dense(64, relu) -> "class" (10, softmax) and "brightness" (1, linear).
std::shared_ptr<Model> two_views_model() {
  auto image = Input(InputOptions({784}).name("image"));
  auto mirror = Input(InputOptions({784}).name("mirror"));
  auto both = layers::Concatenate()(std::vector<KerasTensor>{image, mirror});
  auto hidden = layers::Dense(layers::DenseOptions(64).activation("relu").kernel_initializer(glorot(1)))(both[0]);
  auto cls = layers::Dense(layers::DenseOptions(10).activation("softmax").kernel_initializer(glorot(2)).name("class"))(
      hidden);
  auto bright = layers::Dense(layers::DenseOptions(1).kernel_initializer(glorot(3)).name("brightness"))(hidden);
  return std::make_shared<Model>(std::vector<KerasTensor>{image, mirror}, std::vector<KerasTensor>{cls, bright},
                                 "two_views");
}

constexpr double kClassWeight = 1.0, kBrightnessWeight = 0.5;

CompileOptions compile_options() {
  return CompileOptions()
      .optimizer("adam")
      .losses({"sparse_categorical_crossentropy", "mse"})
      .loss_weights({kClassWeight, kBrightnessWeight})
      .metrics_by_output({{"class", {"accuracy"}}, {"brightness", {"mae"}}});
}

const std::vector<std::string> kLogNames = {"loss", "class_loss", "brightness_loss", "class_accuracy",
                                            "brightness_mae"};

// loss == w1 * class_loss + w2 * brightness_loss, up to the f32 accumulation of the means.
void expect_weighted_sum(double loss, double class_loss, double brightness_loss, const std::string& where) {
  const double sum = kClassWeight * class_loss + kBrightnessWeight * brightness_loss;
  EXPECT_NEAR(loss, sum, 1e-5 * std::max(1.0, std::abs(sum))) << where;
}

}  // namespace

TEST(MultiIo, TwoInputsTwoOutputsLearnFashionMnist) {
  const TwoViews& d = train_data();
  const TwoViews& t = test_data();
  auto model = two_views_model();
  model->compile(compile_options());
  EXPECT_EQ(model->metrics_names(), kLogNames);
  auto history = model->fit({d.image, d.mirror}, {d.label, d.brightness}, FitOptions().epochs(4).seed(5).verbose(0));
  EXPECT_EQ(history->keys(), kLogNames);
  for (size_t e = 0; e < history->epoch().size(); ++e) {
    expect_weighted_sum(history->at("loss")[e], history->at("class_loss")[e], history->at("brightness_loss")[e],
                        "epoch " + std::to_string(e));
  }
  EXPECT_LT(history->at("class_loss").back(), history->at("class_loss").front());
  EXPECT_LT(history->at("brightness_loss").back(), history->at("brightness_loss").front());

  const Logs scores = model->evaluate({t.image, t.mirror}, {t.label, t.brightness}, EvaluateOptions().verbose(0));
  EXPECT_EQ(scores.keys(), kLogNames);
  expect_weighted_sum(scores.at("loss"), scores.at("class_loss"), scores.at("brightness_loss"), "evaluate");
  EXPECT_GT(scores.at("class_accuracy"), 0.65);  // chance is 0.1
  // The brightness head beats predicting the training images' mean brightness for every test image.
  double mean = 0, baseline_mae = 0;
  for (float b : d.brightness.to_vector<float>()) mean += b / static_cast<double>(d.size());
  for (float b : t.brightness.to_vector<float>()) baseline_mae += std::abs(b - mean) / static_cast<double>(t.size());
  EXPECT_LT(scores.at("brightness_mae"), 0.5 * baseline_mae);

  // predict_multi gives both outputs; its class predictions score what evaluate reported.
  const std::vector<Tensor> preds = model->predict_multi({t.image, t.mirror});
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(preds[0].shape(), (Shape{500, 10}));
  EXPECT_EQ(preds[1].shape(), (Shape{500, 1}));
  SparseCategoricalAccuracy acc;
  acc.update_state(t.label, preds[0]);
  EXPECT_DOUBLE_EQ(acc.result(), scores.at("class_accuracy"));
  MeanAbsoluteErrorMetric mae;
  mae.update_state(t.brightness, preds[1]);
  EXPECT_NEAR(mae.result(), scores.at("brightness_mae"), 1e-6);
}

TEST(MultiIo, ValidationSplitTakesTheLastFifthOfEveryArray) {
  const TwoViews& d = train_data();
  auto model = two_views_model();
  model->compile(compile_options());
  auto history = model->fit({d.image, d.mirror}, {d.label, d.brightness},
                            FitOptions().epochs(2).validation_split(0.2).seed(2).verbose(0));
  std::vector<std::string> keys = kLogNames;
  for (const auto& k : kLogNames) keys.push_back("val_" + k);
  EXPECT_EQ(history->keys(), keys);
  // 1,200 training samples in batches of 32: 38 steps per epoch.
  EXPECT_EQ(model->optimizer()->iterations_value(), 2 * 38);
  // The last epoch's validation is evaluate() on the last 300 rows of every array, with the same weights.
  const TwoViews v = last_rows(d, 1200);
  const Logs scores = model->evaluate({v.image, v.mirror}, {v.label, v.brightness}, EvaluateOptions().verbose(0));
  for (const auto& k : kLogNames) EXPECT_DOUBLE_EQ(history->at("val_" + k).back(), scores.at(k)) << k;
  expect_weighted_sum(history->at("val_loss").back(), history->at("val_class_loss").back(),
                      history->at("val_brightness_loss").back(), "validation");

  // validation_data as lists gives the same logs.
  auto again = two_views_model();
  again->compile(compile_options());
  const TwoViews tr = [&] {
    using keras::detail::take_rows;
    return TwoViews{take_rows(d.image, 0, 1200), take_rows(d.mirror, 0, 1200), take_rows(d.label, 0, 1200),
                    take_rows(d.brightness, 0, 1200)};
  }();
  auto h2 = again->fit({tr.image, tr.mirror}, {tr.label, tr.brightness},
                       FitOptions().epochs(2).seed(2).verbose(0).validation_data({v.image, v.mirror},
                                                                                  {v.label, v.brightness}));
  for (const auto& k : history->keys()) EXPECT_EQ(h2->at(k), history->at(k)) << k;
}

TEST(MultiIo, ArraysByNameTrainLikeLists) {
  const TwoViews& d = train_data();
  auto by_list = two_views_model();
  auto by_name = two_views_model();
  by_name->set_weights(by_list->get_weights());
  by_list->compile(compile_options());
  by_name->compile(CompileOptions()
                       .optimizer("adam")
                       .losses_by_output({{"brightness", "mse"}, {"class", "sparse_categorical_crossentropy"}})
                       .loss_weights_by_output({{"class", kClassWeight}, {"brightness", kBrightnessWeight}})
                       .metrics_by_output({{"class", {"accuracy"}}, {"brightness", {"mae"}}}));
  const FitOptions options = FitOptions().epochs(1).batch_size(64).seed(9).verbose(0);
  auto h1 = by_list->fit({d.image, d.mirror}, {d.label, d.brightness}, options);
  auto h2 = by_name->fit(Arrays::by_name({{"mirror", d.mirror}, {"image", d.image}}),
                         Arrays::by_name({{"brightness", d.brightness}, {"class", d.label}}), options);
  EXPECT_EQ(h2->keys(), kLogNames);
  for (const auto& k : kLogNames) EXPECT_EQ(h1->at(k), h2->at(k)) << k;
}

// As Keras, the targets of an output that has no loss and no metric may be left out of y by name (or be
// an undefined array in a list): training reads nothing of them, so the model trains exactly as with
// them. An output with a loss still needs its targets.
TEST(MultiIo, TargetsOfAnOutputWithoutLossMayBeLeftOut) {
  const TwoViews& d = train_data();
  // One CompileOptions for three models: the optimizer named there is made afresh by each compile, as
  // Keras's compile("adam"), so that the three do not share Adam's iterations and slots.
  const CompileOptions class_only = CompileOptions()
                                        .optimizer("adam")
                                        .losses_by_output({{"class", "sparse_categorical_crossentropy"}})
                                        .metrics_by_output({{"class", {"accuracy"}}});
  auto with_all = two_views_model();
  auto by_name = two_views_model();
  auto by_list = two_views_model();
  by_name->set_weights(with_all->get_weights());
  by_list->set_weights(with_all->get_weights());
  for (auto* m : {&with_all, &by_name, &by_list}) (*m)->compile(class_only);
  ASSERT_NE(with_all->optimizer(), by_name->optimizer());
  ASSERT_NE(by_name->optimizer(), by_list->optimizer());
  const Tensor weights = Tensor::full({d.size()}, 2.0);  // one array for every output: ignored for brightness
  const FitOptions options = FitOptions().epochs(1).batch_size(64).seed(4).verbose(0).sample_weight(weights);
  auto h_all = with_all->fit({d.image, d.mirror}, {d.label, d.brightness}, options);
  auto h_name = by_name->fit({d.image, d.mirror}, Arrays::by_name({{"class", d.label}}), options);
  auto h_list = by_list->fit({d.image, d.mirror}, {d.label, Tensor()}, options);
  const std::vector<std::string> keys = {"loss", "class_loss", "class_accuracy"};
  EXPECT_EQ(h_name->keys(), keys);
  for (const auto& k : keys) {
    EXPECT_EQ(h_all->at(k), h_name->at(k)) << k;
    EXPECT_EQ(h_all->at(k), h_list->at(k)) << k;
  }
  const auto w_all = with_all->get_weights(), w_name = by_name->get_weights();
  for (size_t i = 0; i < w_all.size(); ++i) EXPECT_TRUE(w_all[i].equal(w_name[i])) << "weight " << i;
  const Logs scores = by_name->evaluate({d.image, d.mirror}, Arrays::by_name({{"class", d.label}}),
                                        EvaluateOptions().verbose(0));
  EXPECT_EQ(scores.keys(), keys);

  try {
    by_name->fit({d.image, d.mirror}, Arrays::by_name({{"brightness", d.brightness}}), options);
    FAIL() << "fit without the targets of an output that has a loss";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fit: y has no array for output 'class'"), std::string::npos) << e.what();
  }
  try {
    by_list->fit({d.image, d.mirror}, {Tensor(), d.brightness}, options);
    FAIL() << "fit with an undefined target for an output that has a loss";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output 'class' is undefined"), std::string::npos) << e.what();
  }
}

TEST(MultiIo, CallbacksAndProgressBarSeePerOutputLogs) {
  const TwoViews& d = train_data();
  keel::testing::TempDir dir;
  auto model = two_views_model();
  model->compile(compile_options());
  // min_delta 10 makes every epoch after the first "no improvement": EarlyStopping stops after epoch 1,
  // its best being the first epoch's val_class_loss, which it can only read from the per-output logs.
  auto stop = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions().monitor("val_class_loss").min_delta(10).patience(1));
  const std::string csv = (dir / "log.csv");
  std::ostringstream progress;
  auto history = model->fit({d.image, d.mirror}, {d.label, d.brightness},
                            FitOptions()
                                .epochs(5)
                                .validation_split(0.2)
                                .seed(4)
                                .verbose(2)
                                .progbar(ProgbarOptions().out(&progress))
                                .callback(stop)
                                .callback(std::make_shared<CSVLogger>(csv)));
  EXPECT_EQ(history->epoch(), (std::vector<int>{0, 1}));
  EXPECT_EQ(stop->stopped_epoch(), 1);
  EXPECT_DOUBLE_EQ(stop->best(), history->at("val_class_loss")[0]);

  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  for (const auto& k : history->keys()) EXPECT_NE(header.find(k), std::string::npos) << header;
  int rows = 0;
  for (std::string line; std::getline(in, line);) rows += line.empty() ? 0 : 1;
  EXPECT_EQ(rows, 2);

  const std::string out = progress.str();
  for (const char* part : {" - loss: ", " - class_loss: ", " - brightness_loss: ", " - class_accuracy: ",
                           " - brightness_mae: ", " - val_class_loss: ", " - val_brightness_mae: "})
    EXPECT_NE(out.find(part), std::string::npos) << part << " in\n" << out;
}

TEST(MultiIo, CheckpointTracksPerOutputMeansInKerasOrder) {
  const TwoViews& d = train_data();
  keel::testing::TempDir dir;
  auto model = two_views_model();
  model->compile(compile_options());
  const Logs logs = model->train_on_batch({d.image, d.mirror}, {d.label, d.brightness});
  EXPECT_EQ(logs.keys(), kLogNames);
  Checkpoint ckpt({{"model", model}});
  BundleReader r(ckpt.save(dir / "ckpt"));
  // keras_api/metrics/N: the "loss" mean, each output's loss mean, then the metrics (Keras's
  // model.metrics order); each holds the value train_on_batch logged under that name.
  for (size_t i = 0; i < kLogNames.size(); ++i) {
    const std::string prefix = "model/keras_api/metrics/" + std::to_string(i);
    const double total = r.read(prefix + "/total/.ATTRIBUTES/VARIABLE_VALUE").item<float>();
    const double count = r.read(prefix + "/count/.ATTRIBUTES/VARIABLE_VALUE").item<float>();
    EXPECT_EQ(count, static_cast<double>(d.size())) << kLogNames[i];
    EXPECT_NEAR(total / count, logs.at(kLogNames[i]), 1e-6 * std::max(1.0, logs.at(kLogNames[i]))) << kLogNames[i];
  }
  EXPECT_FALSE(r.contains("model/keras_api/metrics/5/total/.ATTRIBUTES/VARIABLE_VALUE"));

  // Restoring into a fresh compiled model brings every per-output mean back under its name.
  auto fresh = two_views_model();
  fresh->compile(compile_options());
  Checkpoint restored({{"model", fresh}});
  restored.restore(dir / "ckpt-1").assert_consumed();
  const auto metrics = fresh->metrics();
  for (size_t i = 0; i < kLogNames.size(); ++i) {
    EXPECT_EQ(metrics[i]->name(), kLogNames[i]);
    EXPECT_NEAR(metrics[i]->result(), logs.at(kLogNames[i]), 1e-6 * std::max(1.0, logs.at(kLogNames[i])));
  }
}

TEST(MultiIo, H5KeepsThePerOutputCompileArguments) {
  const TwoViews& t = test_data();
  keel::testing::TempDir dir;
  auto model = two_views_model();
  model->compile(compile_options());
  model->train_on_batch({t.image, t.mirror}, {t.label, t.brightness});
  const Json tc = training_config(*model);
  EXPECT_EQ(tc["loss"], Json::parse(R"(["sparse_categorical_crossentropy", "mse"])"));
  EXPECT_EQ(tc["loss_weights"], Json::parse("[1.0, 0.5]"));
  EXPECT_EQ(tc["metrics"], Json::parse(R"({"brightness": ["mae"], "class": ["accuracy"]})"));
  const std::string path = dir / "two_views.h5";
  model->save(path);
  auto loaded = load_model(path);
  ASSERT_TRUE(loaded->compiled());
  EXPECT_EQ(loaded->metrics_names(), kLogNames);
  EXPECT_EQ(training_config(*loaded), tc);
  const Logs a = model->evaluate({t.image, t.mirror}, {t.label, t.brightness}, EvaluateOptions().verbose(0));
  const Logs b = loaded->evaluate({t.image, t.mirror}, {t.label, t.brightness}, EvaluateOptions().verbose(0));
  EXPECT_EQ(a, b);

  // A map of losses (and of weights) is written as a dict keyed by output name, and read back so.
  model->compile(CompileOptions()
                     .optimizer("sgd")
                     .losses_by_output({{"class", "sparse_categorical_crossentropy"}, {"brightness", "mae"}})
                     .loss_weights_by_output({{"brightness", 2.0}}));
  const Json by_name = training_config(*model);
  EXPECT_EQ(by_name["loss"], Json::parse(R"({"brightness": "mae", "class": "sparse_categorical_crossentropy"})"));
  EXPECT_EQ(by_name["loss_weights"], Json::parse(R"({"brightness": 2.0})"));
  model->save(dir / "by_name.h5");
  auto reloaded = load_model(dir / "by_name.h5");
  EXPECT_EQ(training_config(*reloaded), by_name);
  EXPECT_EQ(reloaded->metrics_names(), (std::vector<std::string>{"loss", "class_loss", "brightness_loss"}));

  // Keras 2.11+ writes one metric list per output, in model.outputs order: read as a dict by output name
  // (what keel writes back), "accuracy" resolved against that output's loss.
  Json nested = tc;
  nested["metrics"] = Json::parse(R"([["accuracy"], ["mae"]])");
  auto from_nested = two_views_model();
  from_nested->compile(compile_options_from_training_config(nested, "k211.h5", from_nested->output_names()));
  EXPECT_EQ(from_nested->metrics_names(), kLogNames);
  EXPECT_EQ(training_config(*from_nested)["metrics"], tc["metrics"]);
  from_nested->set_weights(model->get_weights());
  EXPECT_EQ(from_nested->evaluate({t.image, t.mirror}, {t.label, t.brightness}, EvaluateOptions().verbose(0)).keys(),
            kLogNames);
  nested["metrics"] = Json::parse(R"([["accuracy"], ["mae"], ["mse"]])");
  try {
    compile_options_from_training_config(nested, "k211.h5", from_nested->output_names());
    FAIL() << "three metric lists for two outputs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'metrics' has one list per output (3 lists), but the model has 2 outputs "
                                         "('class', 'brightness')"),
              std::string::npos)
        << e.what();
  }
}
