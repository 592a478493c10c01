// Weighted metrics in compile, checkpoints and .h5 files, and the errors of sample_weight and
// class_weight: Keras 2.4's names ("weighted_<name>", "<output>_weighted_<name>") and order, the metrics'
// total/count in a checkpoint, training_config's "weighted_metrics" both ways (and files without it),
// and messages that name the array or output and both shapes, on Fashion-MNIST images; and one weight per
// sample spread over all of a sample's losses and metric values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "checkpoint_test_objects.h"
#include "error_of.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/graph/generator.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/model.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/training_config.h"
#include "keel/keras/sequential.h"
#include "fashion_subset.h"

using namespace keel;
using namespace keel::keras;
using keel::keras::detail::take_rows;
using keel::test::error_of;

namespace {

const keel::testing::FashionSubset& data() { return keel::testing::fashion_subset(512, 256); }

std::shared_ptr<Loss> logits_loss() {
  return std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true));
}

std::shared_ptr<Sequential> mlp(const CompileOptions& options) {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(16).activation("relu").input_shape({784})),
      layers::Dense(layers::DenseOptions(10))});
  m->compile(options);
  return m;
}

// One input, two classifying heads "a" and "b".
std::shared_ptr<Model> two_heads() {
  auto in = Input(InputOptions({784}).name("image"));
  auto h = layers::Dense(layers::DenseOptions(16).activation("relu"))(in);
  auto a = layers::Dense(layers::DenseOptions(10).name("a"))(h);
  auto b = layers::Dense(layers::DenseOptions(10).name("b"))(h);
  return std::make_shared<Model>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{a, b});
}

CompileOptions base() { return CompileOptions().optimizer("adam").loss(logits_loss()); }

Tensor ramp(int64_t n) {  // weights 0, 0.5, 1, 1.5, 0, ...
  std::vector<float> w;
  for (int64_t i = 0; i < n; ++i) w.push_back(0.5f * static_cast<float>(i % 4));
  return Tensor::from_vector<float>(w, {n});
}

double sum_of(const Tensor& w) {
  double s = 0;
  for (float v : w.to_vector<float>()) s += v;
  return s;
}

}  // namespace

TEST(WeightedMetrics, NamesAndOrderFollowKeras) {
  // One output: a weighted metric keeps its name unless a plain metric has it.
  EXPECT_EQ(mlp(base().weighted_metrics({"accuracy"}))->metrics_names(),
            (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_EQ(mlp(base().metrics({"accuracy"}).weighted_metrics({"accuracy"}))->metrics_names(),
            (std::vector<std::string>{"loss", "accuracy", "weighted_accuracy"}));
  auto acc = std::make_shared<SparseCategoricalAccuracy>("acc");
  EXPECT_EQ(mlp(base().metrics({acc}).weighted_metrics({std::make_shared<SparseCategoricalAccuracy>("acc")}))
                ->metrics_names(),
            (std::vector<std::string>{"loss", "acc", "weighted_acc"}));
  // Several outputs: each output's plain metrics, then its weighted ones.
  auto m = two_heads();
  m->compile(base().metrics({"accuracy"}).weighted_metrics_by_output({{"b", {"accuracy"}}}));
  EXPECT_EQ(m->metrics_names(),
            (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_accuracy", "b_accuracy", "b_weighted_accuracy"}));
  m->compile(base().weighted_metrics({"accuracy"}));
  EXPECT_EQ(m->metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_accuracy", "b_accuracy"}));

  // Two metrics with one name, and one object in both lists, are errors.
  EXPECT_EQ(error_of([] { mlp(base().metrics({"accuracy"}).weighted_metrics({"accuracy", "accuracy"})); }),
            "compile: two metrics are named 'weighted_accuracy'; give each metric of an output its own name");
  EXPECT_EQ(error_of([&] { mlp(base().metrics({acc}).weighted_metrics({acc})); }),
            "compile: the metric object 'acc' is in both metrics and weighted_metrics; give each list its own object");
  EXPECT_EQ(error_of([&] { m->compile(base().weighted_metrics_by_output({{"c", {"accuracy"}}})); }),
            "compile: weighted_metrics_by_output names 'c', which is not an output of the model (its outputs are "
            "'a', 'b')");
}

// keras_api/metrics/N in model.metrics order; the weighted metric's count is the sum of the weights, the
// plain one's the number of samples; a fresh model restores both.
TEST(WeightedMetrics, CheckpointKeepsTheirTotalAndCount) {
  const auto& d = data();
  keel::testing::TempDir dir;
  const CompileOptions options = base().metrics({"accuracy"}).weighted_metrics({"accuracy"});
  auto model = mlp(options);
  const Tensor w = ramp(d.x_train.size(0));
  const Logs logs = model->train_on_batch(d.x_train, d.y_train, w);
  const std::vector<std::string> names{"loss", "accuracy", "weighted_accuracy"};
  ASSERT_EQ(logs.keys(), names);
  Checkpoint ckpt({{"model", model}});
  BundleReader r(ckpt.save(dir / "ckpt"));
  const std::vector<double> counts{static_cast<double>(d.x_train.size(0)), static_cast<double>(d.x_train.size(0)),
                                   sum_of(w)};
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string prefix = "model/keras_api/metrics/" + std::to_string(i);
    const double total = r.read(prefix + "/total/.ATTRIBUTES/VARIABLE_VALUE").item<float>();
    const double count = r.read(prefix + "/count/.ATTRIBUTES/VARIABLE_VALUE").item<float>();
    EXPECT_EQ(count, counts[i]) << names[i];
    EXPECT_NEAR(total / count, logs.at(names[i]), 1e-6) << names[i];
  }
  auto fresh = mlp(options);
  fresh->predict(take_rows(d.x_train, 0, 1));  // builds the layers
  Checkpoint restored({{"model", fresh}});
  restored.restore(dir / "ckpt-1").assert_consumed();
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(fresh->metrics()[i]->name(), names[i]);
    EXPECT_EQ(fresh->metrics()[i]->result(), model->metrics()[i]->result()) << names[i];
  }
}

// training_config writes "weighted_metrics" as compile got them (null when none) and load_model compiles
// them again under the same names; a file without the key (older keel, or Keras's own) loads with none.
TEST(WeightedMetrics, H5RoundTrip) {
  const auto& d = data();
  keel::testing::TempDir dir;
  auto model = mlp(base().metrics({std::make_shared<SparseCategoricalAccuracy>("acc")})
                       .weighted_metrics({std::make_shared<SparseCategoricalAccuracy>("acc"), "accuracy"}));
  const Tensor w = ramp(d.x_test.size(0));
  model->train_on_batch(d.x_train, d.y_train, ramp(d.x_train.size(0)));
  const Json tc = training_config(*model);
  ASSERT_EQ(tc["weighted_metrics"].size(), 2u);
  EXPECT_EQ(tc["weighted_metrics"][0]["config"]["name"], "weighted_acc");
  EXPECT_EQ(tc["weighted_metrics"][1], "accuracy");
  model->save(dir / "m.h5");
  auto loaded = load_model(dir / "m.h5");
  const std::vector<std::string> names{"loss", "acc", "weighted_acc", "accuracy"};
  EXPECT_EQ(model->metrics_names(), names);
  EXPECT_EQ(loaded->metrics_names(), names);
  const auto opts = EvaluateOptions().sample_weight(w).verbose(0);
  EXPECT_EQ(model->evaluate(d.x_test, d.y_test, opts), loaded->evaluate(d.x_test, d.y_test, opts));
  EXPECT_EQ(training_config(*loaded), tc);

  Json old = tc;
  old.erase("weighted_metrics");
  EXPECT_FALSE(compile_options_from_training_config(old, "old.h5").has_weighted_metrics());
  EXPECT_TRUE(training_config(*mlp(base().metrics({"accuracy"})))["weighted_metrics"].is_null());

  // By output: a dict by output name, both ways.
  auto two = two_heads();
  two->compile(base().weighted_metrics_by_output({{"a", {"accuracy"}}}));
  two->train_on_batch(d.x_train, {d.y_train, d.y_train}, Arrays::by_name({{"a", ramp(d.x_train.size(0))}}));
  EXPECT_EQ(training_config(*two)["weighted_metrics"], Json::parse(R"({"a": ["accuracy"]})"));
  two->save(dir / "two.h5");
  auto two_loaded = load_model(dir / "two.h5");
  EXPECT_EQ(two_loaded->metrics_names(), (std::vector<std::string>{"loss", "a_loss", "b_loss", "a_accuracy"}));
  EXPECT_EQ(training_config(*two_loaded), training_config(*two));
}

TEST(SampleWeightErrors, NameTheArrayAndBothShapes) {
  const auto& d = data();
  const Tensor x = take_rows(d.x_train, 0, 100), y = take_rows(d.y_train, 0, 100);
  auto m = mlp(base());
  const auto quiet = FitOptions().verbose(0);
  EXPECT_EQ(error_of([&] { m->fit(x, y, FitOptions(quiet).sample_weight(Tensor::ones({90}))); }),
            "fit: sample_weight has shape [90], but y has shape [100]: give one weight per sample (shape [100])");
  EXPECT_EQ(error_of([&] { m->fit(x, y, FitOptions(quiet).sample_weight(Tensor::ones({100, 5}))); }),
            "fit: sample_weight has shape [100,5], but y has shape [100]: give one weight per sample (shape [100])");
  EXPECT_EQ(error_of([&] {
              m->fit(x, y, FitOptions(quiet).validation_data(x, y, Tensor::ones({7})));
            }),
            "fit: validation_data: sample_weight has shape [7], but y has shape [100]: give one weight per sample "
            "(shape [100])");
  EXPECT_EQ(error_of([&] { m->evaluate(x, y, EvaluateOptions().verbose(0).sample_weight(Tensor::ones({101}))); }),
            "evaluate: sample_weight has shape [101], but y has shape [100]: give one weight per sample (shape "
            "[100])");
  EXPECT_EQ(error_of([&] { m->test_on_batch(x, y, Tensor::ones({})); }),
            "test_on_batch: sample_weight has shape [], but y has shape [100]: give one weight per sample (shape "
            "[100])");
  // [N, 1] is one weight per sample, as Keras squeezes it.
  EXPECT_EQ(m->test_on_batch(x, y, Tensor::full({100, 1}, 2.0)), m->test_on_batch(x, y, Tensor::full({100}, 2.0)));

  auto two = two_heads();
  two->compile(base());
  EXPECT_EQ(error_of([&] {
              two->fit(x, {y, y}, FitOptions(quiet).sample_weight(Arrays::by_name({{"c", Tensor::ones({100})}})));
            }),
            "fit: sample_weight has an array for 'c', which is not an output of the model (the model has 2 outputs "
            "('a', 'b'))");
  EXPECT_EQ(error_of([&] { two->fit(x, {y, y}, FitOptions(quiet).sample_weight({Tensor::ones({100})})); }),
            "fit: sample_weight has 1 array, but the model has 2 outputs ('a', 'b')");
  EXPECT_EQ(error_of([&] {
              two->train_on_batch(x, {y, y}, Arrays::by_name({{"b", Tensor::ones({99})}}));
            }),
            "train_on_batch: sample_weight for output 'b' has shape [99], but the y of output 'b' has shape [100]: "
            "give one weight per sample (shape [100])");
}

TEST(SampleWeightErrors, ClassWeightKeysLabelsAndOutputs) {
  const auto& d = data();
  const Tensor x = take_rows(d.x_train, 0, 100), y = take_rows(d.y_train, 0, 100);
  auto m = mlp(base());
  const auto quiet = FitOptions().verbose(0);
  EXPECT_EQ(error_of([&] { m->fit(x, y, FitOptions(quiet).class_weight({{0, 1.0}, {1, 2.0}, {3, 1.0}})); }),
            "fit: class_weight keys must be the classes 0 to K-1, each once (Keras); got 0, 1, 3");
  EXPECT_EQ(error_of([&] { m->train_on_batch(x, y, Arrays(), {{-1, 1.0}, {0, 2.0}}); }),
            "train_on_batch: class_weight keys must be the classes 0 to K-1, each once (Keras); got -1, 0");
  // Keys 0-4 cannot weigh the images of classes 5-9: the first such image is named, with its label.
  const std::vector<int64_t> labels = y.to(DType::i64).to_vector<int64_t>();
  size_t first = 0;
  while (labels[first] < 5) ++first;
  const ClassWeight five{{0, 1.0}, {1, 1.0}, {2, 1.0}, {3, 1.0}, {4, 1.0}};
  EXPECT_EQ(error_of([&] { m->fit(x, y, FitOptions(quiet).class_weight(five)); }),
            "fit: class_weight has no weight for label " + std::to_string(labels[first]) + " (sample " +
                std::to_string(first) + " of y [100]); its classes are 0 to 4");
  // One-hot targets are read by their argmax; targets of rank 3 are refused, as Keras refuses them.
  std::vector<float> one_hot(100 * 10, 0.0f);
  for (size_t i = 0; i < 100; ++i) one_hot[i * 10 + static_cast<size_t>(labels[i])] = 1.0f;
  auto cat = mlp(CompileOptions().optimizer("adam").loss(
      std::make_shared<CategoricalCrossentropy>(LossOptions().from_logits(true))));
  EXPECT_EQ(error_of([&] { cat->fit(x, Tensor::from_vector<float>(one_hot, {100, 10}),
                                    FitOptions(quiet).class_weight(five)); }),
            "fit: class_weight has no weight for label " + std::to_string(labels[first]) + " (sample " +
                std::to_string(first) + " of y [100,10]); its classes are 0 to 4");
  EXPECT_EQ(error_of([&] {
              cat->fit(x, Tensor::from_vector<float>(one_hot, {100, 5, 2}), FitOptions(quiet).class_weight(five));
            }),
            "fit: class_weight needs labels [N], [N, 1] or one-hot [N, K]; y has shape [100,5,2] (Keras: "
            "class_weight is not supported for 3+ dimensional targets)");

  auto two = two_heads();
  two->compile(base());
  EXPECT_EQ(error_of([&] { two->fit(x, {y, y}, FitOptions(quiet).class_weight(five)); }),
            "fit: class_weight is only supported for a model with one output (Keras); the model has 2 outputs "
            "('a', 'b'): give sample_weight for each output instead");
}

// [N] weights for [N, T] per-sample losses (a sequence's steps) and for Accuracy's elementwise values:
// each sample's weight applies to each of its values, as Keras broadcasts them; the loss divides by the
// number of per-sample losses (N * T), the metric by the sum of the broadcast weights.
TEST(SampleWeightBroadcast, OneWeightCoversEverySampleValue) {
  Generator g(3);
  const int64_t n = 4, t = 3;
  const Tensor y_true = Tensor::uniform({n, t, 2}, g), y_pred = Tensor::uniform({n, t, 2}, g);
  const Tensor w = Tensor::from_vector<float>({0.0f, 1.0f, 2.0f, 0.5f}, {n});
  const Tensor per_value = MeanSquaredError(LossOptions().reduction(Reduction::none))(y_true, y_pred);
  ASSERT_EQ(per_value.shape(), (Shape{n, t}));
  const std::vector<float> l = per_value.to_vector<float>(), wv = w.to_vector<float>();
  double sum = 0;
  for (int64_t i = 0; i < n * t; ++i) sum += wv[static_cast<size_t>(i / t)] * l[static_cast<size_t>(i)];
  const double loss = MeanSquaredError()(y_true, y_pred, w).item<double>();
  EXPECT_NEAR(loss, sum / static_cast<double>(n * t), 1e-6);
  EXPECT_EQ(loss, MeanSquaredError()(y_true, y_pred, w.view({n, 1})).item<double>());

  const Tensor a = Tensor::from_vector<float>({1, 0, 1, 1, 0, 0, 1, 1}, {n, 2});
  const Tensor b = Tensor::from_vector<float>({1, 1, 1, 0, 0, 0, 0, 1}, {n, 2});
  Accuracy acc;
  acc.update_state(a, b, w);
  const std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
  double hits = 0, weights = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    hits += wv[i / 2] * (av[i] == bv[i] ? 1.0 : 0.0);
    weights += wv[i / 2];
  }
  EXPECT_NEAR(acc.result(), hits / weights, 1e-6);
  Accuracy mismatched;
  EXPECT_EQ(error_of([&] { mismatched.update_state(a, b, Tensor::ones({3})); }),
            "accuracy: sample_weight [3] does not give one weight per value (8 values) or per sample (y_true [4,2])");
}
