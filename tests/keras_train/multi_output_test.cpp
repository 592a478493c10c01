// Models with several inputs and outputs, on small synthetic data: every batch takes the same rows of
// every array (shuffled, partial last batch, validation_split, steps_per_epoch), and the errors for a
// wrong number of arrays, unknown names, different sample counts and per-output compile arguments name
// the model's inputs or outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "keel/keras/layers/layers.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/trainer.h"
#include "keel/ops/elementwise.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;

namespace {
using keel::test::error_of;

// Two inputs "in_a", "in_b" of 3 features into two heads "head_a" (2 units) and "head_b" (1 unit).
std::shared_ptr<Model> two_by_two() {
  auto a = Input(InputOptions({3}).name("in_a"));
  auto b = Input(InputOptions({3}).name("in_b"));
  auto sum = layers::Add()(std::vector<KerasTensor>{a, b});
  auto ha = layers::Dense(layers::DenseOptions(2).name("head_a"))(sum[0]);
  auto hb = layers::Dense(layers::DenseOptions(1).name("head_b"))(sum[0]);
  return std::make_shared<Model>(std::vector<KerasTensor>{a, b}, std::vector<KerasTensor>{ha, hb}, "two_by_two");
}

std::vector<float> column(int64_t n, float scale) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(scale * static_cast<float>(i));
  return v;
}

}  // namespace

// Rows i of x_a, x_b, y_a, y_b are i, 2i, 3i and 5i; the model returns 3 * x_a and 2.5 * x_b, so each
// output's loss is exactly 0 if and only if every batch pairs row i of all four arrays.
TEST(MultiOutput, BatchesKeepEveryArrayAligned) {
  const int64_t n = 10;
  Variable w("w", Tensor::from_vector<float>({1.0f}, {1}));
  std::vector<Tensor> seen_a;
  TrainableModel model{[](const Tensor&, bool) -> Tensor { throw Error("single forward used"); },
                       [&w] { return std::vector<Variable>{w}; }, nullptr, nullptr};
  model.forward_multi = [&](const std::vector<Tensor>& xs, bool) {
    seen_a.push_back(xs[0]);
    const Tensor zero = ops::mul(w.value(), 0.0);  // keeps w in the graph
    return std::vector<Tensor>{ops::add(ops::mul(xs[0], 3.0), zero), ops::add(ops::mul(xs[1], 2.5), zero)};
  };
  model.input_names = {"a", "b"};
  model.output_names = {"out_a", "out_b"};
  Trainer trainer(model);
  trainer.compile(CompileOptions().optimizer("sgd").loss("mse").loss_weights({1.0, 2.0}));
  const Tensor xa = Tensor::from_vector<float>(column(n, 1), {n, 1}), xb = Tensor::from_vector<float>(column(n, 2), {n, 1});
  const Tensor ya = Tensor::from_vector<float>(column(n, 3), {n, 1}), yb = Tensor::from_vector<float>(column(n, 5), {n, 1});
  // 8 training samples in batches of 3 (3, 3, 2), 2 for validation: the last two rows of every array.
  auto history = trainer.fit({xa, xb}, {ya, yb}, FitOptions().epochs(2).batch_size(3).validation_split(0.2).seed(7)
                                                     .verbose(0));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "out_a_loss", "out_b_loss", "val_loss",
                                                       "val_out_a_loss", "val_out_b_loss"}));
  for (const auto& key : history->keys())
    for (double v : history->at(key)) EXPECT_EQ(v, 0.0) << key;
  ASSERT_EQ(seen_a.size(), 2u * (3 + 1));  // per epoch: 3 training batches, 1 validation batch
  EXPECT_EQ(seen_a[0].size(0), 3);
  EXPECT_EQ(seen_a[2].size(0), 2);  // the partial last batch
  EXPECT_EQ(seen_a[3].to_vector<float>(), (std::vector<float>{8, 9}));
  std::vector<float> epoch0;
  for (int i = 0; i < 3; ++i)
    for (float v : seen_a[static_cast<size_t>(i)].to_vector<float>()) epoch0.push_back(v);
  std::vector<float> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, column(8, 1));    // every training row once
  EXPECT_NE(epoch0, column(8, 1));    // shuffled

  // steps_per_epoch and train_on_batch/test_on_batch take the same rows of every array too.
  seen_a.clear();
  history = trainer.fit({xa, xb}, {ya, yb}, FitOptions().epochs(1).batch_size(4).steps_per_epoch(2).verbose(0));
  EXPECT_EQ(seen_a.size(), 2u);
  EXPECT_EQ(history->at("loss")[0], 0.0);
  EXPECT_EQ(trainer.train_on_batch({xa, xb}, {ya, yb}).at("out_b_loss"), 0.0);
  EXPECT_EQ(trainer.test_on_batch({xa, xb}, {ya, yb}).at("loss"), 0.0);
  // Misaligned targets are seen: the weighted sum of the per-output losses.
  const Logs off = trainer.test_on_batch({xa, xb}, {yb, ya});
  EXPECT_GT(off.at("out_a_loss"), 0.0);
  EXPECT_NEAR(off.at("loss"), off.at("out_a_loss") + 2.0 * off.at("out_b_loss"), 1e-5 * off.at("loss"));
}

TEST(MultiOutput, WrongNumberOfArraysNamesTheModelsInputsAndOutputs) {
  auto m = two_by_two();
  m->compile(CompileOptions().optimizer("sgd").loss("mse"));
  const Tensor x = Tensor::ones({4, 3}), ya = Tensor::ones({4, 2}), yb = Tensor::ones({4, 1});
  EXPECT_EQ(error_of([&] { m->fit(x, ya, FitOptions().verbose(0)); }),
            "fit: x has one array, but the model has 2 inputs ('in_a', 'in_b'); pass a list in that order, or "
            "arrays by name");
  EXPECT_EQ(error_of([&] { m->evaluate({x, x}, {ya, yb, yb}, EvaluateOptions().verbose(0)); }),
            "evaluate: y has 3 arrays, but the model has 2 outputs ('head_a', 'head_b')");
  EXPECT_EQ(error_of([&] { m->predict_multi({x}); }),
            "predict: x has 1 array, but the model has 2 inputs ('in_a', 'in_b')");
  EXPECT_EQ(error_of([&] { m->predict({x, x}); }),
            "predict: the model has 2 outputs ('head_a', 'head_b'); predict_multi returns one array for each");
  EXPECT_EQ(error_of([&] { m->fit({x, x}, {ya, yb}, FitOptions().verbose(0).validation_data({x, x}, ya)); }),
            "fit: validation_data: y has one array, but the model has 2 outputs ('head_a', 'head_b'); pass a list "
            "in that order, or arrays by name");
  const auto preds = m->predict_multi({x, x});
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(preds[0].shape(), (Shape{4, 2}));
  EXPECT_EQ(preds[1].shape(), (Shape{4, 1}));
}

TEST(MultiOutput, DifferentSampleCountsNameBothArrays) {
  auto m = two_by_two();
  m->compile(CompileOptions().optimizer("sgd").loss("mse"));
  const Tensor x = Tensor::ones({4, 3}), ya = Tensor::ones({4, 2});
  EXPECT_EQ(error_of([&] { m->fit({x, x}, {ya, Tensor::ones({3, 1})}, FitOptions().verbose(0)); }),
            "fit: input 'in_a' has 4 samples but output 'head_b' has 3; all arrays must have the same number of "
            "samples (first axis)");
  EXPECT_EQ(error_of([&] { m->train_on_batch({x, Tensor::ones({5, 3})}, {ya, Tensor::ones({4, 1})}); }),
            "train_on_batch: input 'in_a' has 4 samples but input 'in_b' has 5; all arrays must have the same "
            "number of samples (first axis)");
  EXPECT_EQ(error_of([&] { m->predict_multi({x, Tensor::ones({2, 3})}); }),
            "predict: input 'in_a' has 4 samples but input 'in_b' has 2; all arrays must have the same number of "
            "samples (first axis)");
}

TEST(MultiOutput, ArraysByNameMustMatchTheNames) {
  auto m = two_by_two();
  m->compile(CompileOptions().optimizer("sgd").loss("mse"));
  const Tensor x = Tensor::ones({4, 3}), ya = Tensor::ones({4, 2}), yb = Tensor::ones({4, 1});
  const Arrays y = Arrays::by_name({{"head_a", ya}, {"head_b", yb}});
  EXPECT_EQ(error_of([&] { m->fit(Arrays::by_name({{"in_a", x}}), y, FitOptions().verbose(0)); }),
            "fit: x has no array for input 'in_b' (x has arrays for 'in_a'; the model has 2 inputs ('in_a', "
            "'in_b'))");
  EXPECT_EQ(error_of([&] { m->fit(Arrays::by_name({{"in_a", x}, {"in_b", x}, {"in_c", x}}), y,
                                  FitOptions().verbose(0)); }),
            "fit: x has an array for 'in_c', which is not an input of the model (the model has 2 inputs ('in_a', "
            "'in_b'))");
  const Logs by_name = m->test_on_batch(Arrays::by_name({{"in_b", x}, {"in_a", x}}), y);
  EXPECT_EQ(by_name, m->test_on_batch({x, x}, {ya, yb}));
}

TEST(MultiOutput, CompileChecksPerOutputArguments) {
  auto m = two_by_two();
  auto compile = [&](const CompileOptions& o) { m->compile(CompileOptions(o).optimizer("sgd")); };
  EXPECT_EQ(error_of([&] { compile(CompileOptions().losses({"mse"})); }),
            "compile: losses has 1 entries, but the model has 2 outputs ('head_a', 'head_b'); give one per output, "
            "in order");
  EXPECT_EQ(error_of([&] { compile(CompileOptions().loss("mse").loss_weights({1, 2, 3})); }),
            "compile: loss_weights has 3 entries, but the model has 2 outputs ('head_a', 'head_b'); give one per "
            "output, in order");
  EXPECT_EQ(error_of([&] { compile(CompileOptions().losses_by_output({{"head_c", "mse"}})); }),
            "compile: losses_by_output names 'head_c', which is not an output of the model (its outputs are "
            "'head_a', 'head_b')");
  EXPECT_EQ(error_of([&] { compile(CompileOptions().loss("mse").loss_weights_by_output({{"b", 1.0}})); }),
            "compile: loss_weights_by_output names 'b', which is not an output of the model (its outputs are "
            "'head_a', 'head_b')");
  EXPECT_EQ(error_of([&] { compile(CompileOptions().loss("mse").metrics_by_output({{"head", {"mae"}}})); }),
            "compile: metrics_by_output names 'head', which is not an output of the model (its outputs are "
            "'head_a', 'head_b')");
  EXPECT_EQ(error_of([&] { compile(CompileOptions().loss("mse").metrics({"mae", "mae"})); }),
            "compile: two metrics are named 'head_a_mae'; give each metric of an output its own name");
  EXPECT_FALSE(m->compiled());  // a failed compile leaves the model as it was

  // An output without a loss is not trained and has no "<output>_loss" (Keras: "Ok to have no loss").
  compile(CompileOptions().losses_by_output({{"head_b", "mse"}}).metrics({"mae"}));
  EXPECT_EQ(m->metrics_names(), (std::vector<std::string>{"loss", "head_b_loss", "head_a_mae", "head_b_mae"}));
}

TEST(MultiOutput, OneOutputCompiledPerOutputKeepsPlainNames) {
  auto in = Input(InputOptions({3}).name("in"));
  auto out = layers::Dense(layers::DenseOptions(2).activation("softmax").name("probs"))(in);
  Model m(in, out, "one");
  m.compile(CompileOptions().optimizer("sgd").losses_by_output({{"probs", "sparse_categorical_crossentropy"}})
                .metrics_by_output({{"probs", {"accuracy"}}}));
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  const Logs logs = m.test_on_batch(Tensor::ones({4, 3}), Tensor::from_vector<int32_t>({0, 1, 1, 0}, {4}));
  EXPECT_EQ(logs.keys(), (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_DOUBLE_EQ(logs.at("accuracy"), 0.5);  // one row repeated: one class predicted for all four
}

TEST(MultiOutput, TwoInputsOneOutputTakeOneTargetArray) {
  auto a = Input(InputOptions({3}).name("in_a"));
  auto b = Input(InputOptions({3}).name("in_b"));
  auto sum = layers::Add()(std::vector<KerasTensor>{a, b});
  auto out = layers::Dense(layers::DenseOptions(1).name("out"))(sum[0]);
  Model m(std::vector<KerasTensor>{a, b}, std::vector<KerasTensor>{out}, "two_in");
  m.compile(CompileOptions().optimizer("sgd").loss("mse").metrics({"mae"}));
  const Tensor xa = Tensor::ones({6, 3}), xb = Tensor::zeros({6, 3}), y = Tensor::ones({6, 1});
  auto history = m.fit({xa, xb}, y, FitOptions().epochs(2).batch_size(4).verbose(0));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "mae"}));  // one output: plain names
  const Tensor p = m.predict({xa, xb});
  EXPECT_EQ(p.shape(), (Shape{6, 1}));
  // predict is predict_multi's only array, and evaluate scores it.
  EXPECT_EQ(p.to_vector<float>(), m.predict_multi({xa, xb}).at(0).to_vector<float>());
  MeanAbsoluteErrorMetric mae;
  mae.update_state(y, p);
  EXPECT_NEAR(m.evaluate({xa, xb}, y, EvaluateOptions().verbose(0)).at("mae"), mae.result(), 1e-6);
}
