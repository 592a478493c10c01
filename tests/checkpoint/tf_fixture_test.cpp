// Restoring real TensorFlow checkpoints into keel object graphs shaped like the writers'.
#include <gtest/gtest.h>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"

namespace keel {
namespace {

using testing::fixture;
using testing::TestDense;
using testing::TestOptimizer;
using testing::TestSequential;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(TfFixtures, TictactoeObjectGraphUsesTheNewerOptimizerLayout) {
  const std::string prefix = fixture("tf_checkpoints/tictactoe/ckpt-18");
  BundleReader r(prefix);
  const auto g = parse_object_graph(r.read(kObjectGraphKey).str(0), prefix);
  const std::string dump = describe_object_graph(g);
  ASSERT_EQ(g.nodes_size(), 31) << dump;
  // Root: net, optimizer, step, then save_counter; net's optimizer is a second Adam (node 7).
  EXPECT_TRUE(has_line(dump, "#0 (root)")) << dump;
  EXPECT_TRUE(has_line(dump, "    child net -> #1"));
  EXPECT_TRUE(has_line(dump, "    child save_counter -> #4"));
  EXPECT_TRUE(has_line(dump, "#7 net/optimizer"));
  EXPECT_TRUE(has_line(dump, "    child _momentums -> #21"));
  EXPECT_TRUE(has_line(dump, "    child _velocities -> #22"));
  EXPECT_TRUE(has_line(dump, "#8 net/predict_function [no values]"));
  // Slots are plain children of _momentums/_velocities, named only by their full_name.
  EXPECT_TRUE(has_line(dump, "#23 net/optimizer/_variables/1"));
  EXPECT_TRUE(has_line(dump, "    attr VARIABLE_VALUE = net/optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE "
                             "(full_name Adam/m/dense/kernel)"));
  EXPECT_TRUE(has_line(dump, "    child 0 -> #23")) << dump;
  EXPECT_EQ(dump.find("    slot "), std::string::npos);  // no SlotVariableReference in this layout
}

TEST(TfFixtures, RestoresTictactoeCheckpointExactly) {
  const std::string prefix = fixture("tf_checkpoints/tictactoe/ckpt-18");
  auto net = std::make_shared<TestSequential>();
  net->add(std::make_shared<TestDense>("dense", 9, 9));
  net->add(std::make_shared<TestDense>("dense_1", 9, 9));
  net->set_optimizer(std::make_shared<TestOptimizer>());
  net->optimizer->build(net->trainable_variables());
  auto optimizer = std::make_shared<TestOptimizer>();  // the script's unused root-level Adam
  Variable step("step", Tensor::from_vector<int32_t>({0}, Shape{}), false);
  Checkpoint ckpt({{"net", net}, {"optimizer", optimizer}, {"step", step}});
  auto status = ckpt.restore(prefix);
  status.assert_existing_objects_matched();
  status.assert_consumed();

  EXPECT_EQ(net->optimizer->iter.value().item<int64_t>(), 216);
  EXPECT_EQ(optimizer->iter.value().item<int64_t>(), 0);
  EXPECT_EQ(ckpt.save_counter().value().item<int64_t>(), 18);
  EXPECT_EQ(step.value().item<int32_t>(), 1);
  EXPECT_FLOAT_EQ(net->optimizer->learning_rate.value().item<float>(), 0.001f);

  BundleReader r(prefix);
  auto key = [](const std::string& path) { return variable_key(path); };
  EXPECT_TRUE(net->layers[0]->kernel.value().equal(r.read(key("net/layer_with_weights-0/kernel"))));
  EXPECT_TRUE(net->layers[1]->bias.value().equal(r.read(key("net/layer_with_weights-1/bias"))));
  EXPECT_FLOAT_EQ(net->layers[0]->kernel.value().at<float>({0, 0}), 0.3806527554988861f);
  // _variables/1..8 are m, v of dense/kernel, dense/bias, dense_1/kernel, dense_1/bias.
  const auto vars = net->trainable_variables();
  for (size_t i = 0; i < vars.size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const std::string slot_key = key("net/optimizer/_variables/" + std::to_string(2 * i + k + 1));
      EXPECT_TRUE(net->optimizer->slot(vars[i], k == 0 ? "m" : "v").value().equal(r.read(slot_key))) << slot_key;
    }
  }
  EXPECT_EQ(net->optimizer->slots.size(), 8u);
}

TEST(TfFixtures, TictactoeSlotsCreatedWhenTheOptimizerIsNotBuilt) {
  auto net = std::make_shared<TestSequential>();
  net->add(std::make_shared<TestDense>("dense", 9, 9));
  net->add(std::make_shared<TestDense>("dense_1", 9, 9));
  net->set_optimizer(std::make_shared<TestOptimizer>());
  Variable step("step", Tensor::from_vector<int32_t>({0}, Shape{}), false);
  Checkpoint ckpt({{"net", net}, {"optimizer", std::make_shared<TestOptimizer>()}, {"step", step}});
  ckpt.restore(fixture("tf_checkpoints/tictactoe/ckpt-19")).assert_consumed();
  EXPECT_EQ(ckpt.save_counter().value().item<int64_t>(), 19);
  ASSERT_EQ(net->optimizer->slots.size(), 8u);
  BundleReader r(fixture("tf_checkpoints/tictactoe/ckpt-19"));
  EXPECT_TRUE(net->optimizer->slot(net->layers[1]->kernel, "v")
                  .value()
                  .equal(r.read("net/optimizer/_variables/6/.ATTRIBUTES/VARIABLE_VALUE")));
}

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

TEST(TfFixtures, RestoresSavedModelVariablesWithTheOlderSlotLayout) {
  const std::string prefix = fixture("saved_models/basic_regression_dnn/variables/variables");
  auto norm = std::make_shared<Normalization>();
  auto d1 = std::make_shared<TestDense>("dense", 8, 64);
  auto d2 = std::make_shared<TestDense>("dense_1", 64, 64);
  auto d3 = std::make_shared<TestDense>("dense_2", 64, 1);
  auto opt = std::make_shared<TestOptimizer>();
  Variable beta_1("beta_1", Tensor::scalar(0)), beta_2("beta_2", Tensor::scalar(0)), decay("decay", Tensor::scalar(1));
  opt->track_variable("beta_1", beta_1);
  opt->track_variable("beta_2", beta_2);
  opt->track_variable("decay", decay);
  // The SavedModel's root is the model itself: its layers are the root's children.
  Checkpoint model({{"layer_with_weights-0", norm}, {"layer_with_weights-1", d1}, {"layer_with_weights-2", d2},
                    {"layer_with_weights-3", d3}, {"optimizer", opt}});
  auto status = model.read(prefix);
  status.assert_existing_objects_matched();
  // Only the metric (not part of this graph) is left.
  EXPECT_EQ(status.unused_checkpoint_keys(),
            (std::vector<std::string>{"keras_api/metrics/0/count/.ATTRIBUTES/VARIABLE_VALUE",
                                      "keras_api/metrics/0/total/.ATTRIBUTES/VARIABLE_VALUE"}));
  EXPECT_THROW(status.assert_consumed(), Error);
  status.expect_partial();

  EXPECT_EQ(opt->iter.value().item<int64_t>(), 2100);
  EXPECT_EQ(norm->count.value().item<int64_t>(), 824);
  EXPECT_FLOAT_EQ(beta_1.value().item<float>(), 0.9f);
  EXPECT_FLOAT_EQ(decay.value().item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(norm->mean.value().at<float>({0}), 280.2726135253906f);
  ASSERT_EQ(opt->slots.size(), 12u);
  BundleReader r(prefix);
  EXPECT_TRUE(d2->kernel.value().equal(r.read("layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE")));
  for (const auto& [layer, path] : std::vector<std::pair<std::shared_ptr<TestDense>, std::string>>{
           {d1, "layer_with_weights-1"}, {d2, "layer_with_weights-2"}, {d3, "layer_with_weights-3"}}) {
    for (const char* s : {"m", "v"}) {
      EXPECT_TRUE(opt->slot(layer->kernel, s).value().equal(r.read(slot_key(path + "/kernel", "optimizer", s))));
      EXPECT_TRUE(opt->slot(layer->bias, s).value().equal(r.read(slot_key(path + "/bias", "optimizer", s))));
    }
  }
}

}  // namespace
}  // namespace keel

namespace keel {
namespace {

TEST(TfFixtures, RestoreOfASavedModelDirectoryReadsItsVariables) {
  // tf.train.Checkpoint.restore(saved_model_dir) restores <dir>/variables/variables; keel looked for
  // '<dir>.index'. A path that is not a checkpoint gets TF's hint about the '-1' suffix.
  Variable a("a", Tensor::scalar(0)), b("b", Tensor::scalar(0)), c("c", Tensor::scalar(0));
  Checkpoint module({{"a", a}, {"b", b}, {"c", c}});
  for (const std::string dir : {fixture("saved_models/half_plus_two_tf2"), fixture("saved_models/half_plus_two_tf2/")}) {
    a.assign(Tensor::scalar(0));
    auto status = module.restore(dir);
    EXPECT_EQ(status.path(), fixture("saved_models/half_plus_two_tf2/variables/variables"));
    status.expect_partial();
    EXPECT_EQ(a.value().item<float>(), 0.5f);
    EXPECT_EQ(b.value().item<float>(), 2.0f);
    EXPECT_EQ(c.value().item<float>(), 3.0f);
  }
  const std::string ckpt_dir = fixture("tf_checkpoints/tictactoe");
  Checkpoint fresh({{"a", a}});
  try {
    fresh.restore(ckpt_dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "restore: '" + ckpt_dir + "' is a checkpoint directory, not a checkpoint: pass "
                                     "latest_checkpoint('" + ckpt_dir + "')");
  }
  try {
    fresh.restore(ckpt_dir + "/ckpt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "restore: no checkpoint at '" + ckpt_dir + "/ckpt' (no " + ckpt_dir +
                                         "/ckpt.index); double-check the path, you may be missing the checkpoint "
                                         "suffix (e.g. the '-1' in 'path/to/ckpt-1')");
  }
  EXPECT_FALSE(fresh.has_save_counter());  // a failed restore creates nothing
}

}  // namespace
}  // namespace keel
