// The training half in checkpoints: Keras optimizers, metrics and callbacks saved and restored through
// keel::Checkpoint, resumed bitwise, and restored from a real TF 2.10 SavedModel's variables.
#include <gtest/gtest.h>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/object_path.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/callbacks/history.h"
#include "keel/keras/metrics.h"
#include "keel/keras/optimizers.h"

using namespace keel;
using namespace keel::keras;
using keel::testing::TempDir;
using keel::testing::TestDense;
using keel::testing::fixture;

namespace {

// Deterministic fake gradients for step s.
std::vector<Tensor> fake_grads(const TestDense& d, int s) {
  Generator g(100 + static_cast<uint64_t>(s));
  return {Tensor::normal(d.kernel.shape(), g), Tensor::normal(d.bias.shape(), g)};
}

struct Named : Trackable {};  // a plain container node ("keras_api", "metrics")

std::shared_ptr<Trackable> metrics_node(const std::shared_ptr<Metric>& m) {
  auto metrics = std::make_shared<Named>();
  metrics->track("0", m);
  auto api = std::make_shared<Named>();
  api->track("metrics", metrics);
  return api;
}

}  // namespace

TEST(TrainingCheckpoint, OptimizerMetricAndCallbacksResumeBitwise) {
  TempDir dir;
  for (const std::string cls : {"Adam", "SGD", "RMSprop", "Adagrad"}) {
    auto make_opt = [&] {
      nlohmann::json cfg = {{"learning_rate", 0.01}};
      if (cls == "SGD") cfg["momentum"] = 0.9;
      if (cls == "RMSprop") {
        cfg["centered"] = true;
        cfg["momentum"] = 0.5;
      }
      if (cls == "Adam") cfg["amsgrad"] = true;
      return optimizer_from_config({{"class_name", cls}, {"config", cfg}});
    };
    // Straight: 5 steps. Interrupted: 3 steps, save, fresh objects, restore, 2 steps.
    auto straight = std::make_shared<TestDense>("dense", 4, 3);
    auto straight_opt = make_opt();
    for (int s = 0; s < 5; ++s) straight_opt->apply_gradients(fake_grads(*straight, s), {straight->kernel, straight->bias});

    auto model = std::make_shared<TestDense>("dense", 4, 3);
    auto opt = make_opt();
    auto mean = std::make_shared<Mean>("loss");
    auto history = std::make_shared<History>();
    auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").patience(3));
    Logs none, l0{{"loss", 0.5}}, l1{{"loss", 0.75}};
    history->on_train_begin(none);
    es->on_train_begin(none);
    for (int s = 0; s < 3; ++s) opt->apply_gradients(fake_grads(*model, s), {model->kernel, model->bias});
    mean->update_state(0.25, 8);
    history->on_epoch_end(0, l0);
    es->on_epoch_end(0, l0);
    history->on_epoch_end(1, l1);
    es->on_epoch_end(1, l1);
    Checkpoint ckpt({{"model", model}, {"optimizer", opt}, {"keras_api", metrics_node(mean)}, {"history", history},
                     {"early_stopping", es}});
    const std::string path = ckpt.save(dir.path() + "/" + cls + "/ckpt");

    auto model2 = std::make_shared<TestDense>("dense", 4, 3);
    model2->build(/*seed=*/77);  // other initial values, overwritten by the restore
    auto opt2 = make_opt();      // no slots yet: created by create_slot_for_restore
    auto mean2 = std::make_shared<Mean>("loss");
    auto history2 = std::make_shared<History>();
    auto es2 = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("loss").patience(3));
    Checkpoint ckpt2({{"model", model2}, {"optimizer", opt2}, {"keras_api", metrics_node(mean2)},
                      {"history", history2}, {"early_stopping", es2}});
    ckpt2.restore(path).assert_consumed();
    EXPECT_EQ(opt2->iterations_value(), 3) << cls;
    EXPECT_EQ(opt2->slot_variables().size(), opt->slot_variables().size()) << cls;
    EXPECT_DOUBLE_EQ(mean2->result(), 0.25);
    EXPECT_EQ(history2->at("loss"), (std::vector<double>{0.5, 0.75}));
    EXPECT_EQ(es2->wait(), 1);
    EXPECT_EQ(es2->best(), 0.5);
    for (int s = 3; s < 5; ++s) opt2->apply_gradients(fake_grads(*model2, s), {model2->kernel, model2->bias});
    EXPECT_TRUE(model2->kernel.value().equal(straight->kernel.value())) << cls;
    EXPECT_TRUE(model2->bias.value().equal(straight->bias.value())) << cls;
    for (const auto& s : straight_opt->slot_variables()) {
      const Variable& original = s.original.is(straight->kernel) ? model2->kernel : model2->bias;
      EXPECT_TRUE(opt2->get_slot(original, s.slot_name).value().equal(s.slot.value())) << cls << " " << s.slot_name;
    }
  }
}

TEST(TrainingCheckpoint, AdamRestoresFromTheOlderTfLayout) {
  // basic_regression_dnn: TF 2.10 Keras model.save(); optimizer/iter = 2100, beta_1/beta_2/decay/
  // learning_rate, and m/v slots under .OPTIMIZER_SLOT/optimizer for every weight.
  const std::string prefix = fixture("saved_models/basic_regression_dnn/variables/variables");
  struct Normalization : Trackable {
    Variable mean{"mean", Tensor::zeros({8}), false};
    Variable variance{"variance", Tensor::zeros({8}), false};
    Variable count{"count", Tensor::from_vector<int64_t>({0}, Shape{}), false};
    Normalization() {
      track_variable("mean", mean);
      track_variable("variance", variance);
      track_variable("count", count);
    }
  };
  auto norm = std::make_shared<Normalization>();
  auto d1 = std::make_shared<TestDense>("dense", 8, 64);
  auto d2 = std::make_shared<TestDense>("dense_1", 64, 64);
  auto d3 = std::make_shared<TestDense>("dense_2", 64, 1);
  auto adam = std::make_shared<Adam>();
  auto metric = std::make_shared<Mean>("loss");
  Checkpoint model({{"layer_with_weights-0", norm}, {"layer_with_weights-1", d1}, {"layer_with_weights-2", d2},
                    {"layer_with_weights-3", d3}, {"optimizer", adam}, {"keras_api", metrics_node(metric)}});
  auto status = model.read(prefix);
  status.assert_existing_objects_matched();
  // Keras 2.11+ optimizers have no legacy `decay`: that value alone is left.
  EXPECT_EQ(status.unused_checkpoint_keys(), std::vector<std::string>{"optimizer/decay/.ATTRIBUTES/VARIABLE_VALUE"});
  status.expect_partial();

  EXPECT_EQ(adam->iterations_value(), 2100);
  EXPECT_FLOAT_EQ(static_cast<float>(adam->learning_rate()), 0.001f);
  EXPECT_EQ(adam->beta_1(), 0.9);  // the stored f32 0.9 is the config's 0.9
  EXPECT_EQ(adam->slot_variables().size(), 12u);
  BundleReader r(prefix);
  for (const auto& [layer, path] : std::vector<std::pair<std::shared_ptr<TestDense>, std::string>>{
           {d1, "layer_with_weights-1"}, {d2, "layer_with_weights-2"}, {d3, "layer_with_weights-3"}}) {
    for (const char* s : {"m", "v"}) {
      EXPECT_TRUE(adam->get_slot(layer->kernel, s).value().equal(r.read(slot_key(path + "/kernel", "optimizer", s))));
      EXPECT_TRUE(adam->get_slot(layer->bias, s).value().equal(r.read(slot_key(path + "/bias", "optimizer", s))));
    }
  }
  EXPECT_GT(metric->count().value().item<float>(), 0.0f);
  // Training continues from step 2101 with the restored moments.
  const Tensor m_before = adam->get_slot(d3->bias, "m").value().clone();
  adam->apply_gradients({Tensor::zeros(d3->bias.shape())}, {d3->bias});
  EXPECT_FLOAT_EQ(adam->get_slot(d3->bias, "m").value().at<float>({0}), m_before.at<float>({0}) * 0.9f);
  EXPECT_EQ(adam->iterations_value(), 2101);
}
