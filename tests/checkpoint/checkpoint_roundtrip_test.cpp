// Round trips of a small object graph through keel's own writer and reader.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "checkpoint_test_objects.h"
#include "error_of.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/generator_trackable.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"
#include "keel/checkpoint/state.h"

namespace keel {
namespace {

using testing::TempDir;
using testing::TestDense;
using testing::TestOptimizer;
using testing::TestSequential;

struct TrainerState {
  int64_t epoch = 0;
  std::map<std::string, double> best;
  template <class A>
  void serialize(A& ar, unsigned /*version*/) {
    ar & epoch;
    ar & best;
  }
};

struct Trainer : Trackable {
  TrainerState s;
  bool has_state() const override { return true; }
  std::string save_state() const override { return state_to_string(s, "Trainer"); }
  void restore_state(const std::string& b) override { s = state_from_string<TrainerState>(b, "Trainer"); }
};

struct World {
  std::shared_ptr<TestSequential> model = std::make_shared<TestSequential>();
  std::shared_ptr<TestOptimizer> opt = std::make_shared<TestOptimizer>();
  Variable step{"step", Tensor::from_vector<int64_t>({0}, Shape{}), false};
  Generator gen{7};
  std::shared_ptr<GeneratorTrackable> rng = std::make_shared<GeneratorTrackable>(gen);
  std::shared_ptr<Trainer> trainer = std::make_shared<Trainer>();
  explicit World(uint64_t seed, bool build = true, int64_t units_1 = 2) {
    model->add(std::make_shared<TestDense>("dense", 3, 4, build));
    model->add(std::make_shared<TestDense>("dense_1", 4, units_1, build));
    if (build) {
      model->layers[0]->build(seed);
      model->layers[1]->build(seed + 1);
      opt->build(model->trainable_variables());
    }
  }
  Checkpoint checkpoint() {
    return Checkpoint({{"model", model}, {"optimizer", opt}, {"step", step}, {"rng", rng}, {"trainer", trainer}});
  }
  void perturb(double k) {
    for (const auto& s : opt->slots) s.slot.assign(Tensor::full(s.slot.shape(), k * 0.25));
    opt->iter.assign(Tensor::from_vector<int64_t>({static_cast<int64_t>(k * 10)}, Shape{}));
    step.assign(Tensor::from_vector<int64_t>({int64_t{1} << 40}, Shape{}));
    for (int i = 0; i < 5; ++i) gen.next_block();
    trainer->s.epoch = 12;
    trainer->s.best = {{"val_loss", 0.125}, {"val_acc", 0.875}};
  }
};

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

tf::TrackableObjectGraph stored_graph(const std::string& prefix) {
  BundleReader r(prefix);
  return parse_object_graph(r.read(kObjectGraphKey).str(0), prefix);
}

TEST(CheckpointRoundTrip, KeysAndObjectGraphFollowTensorFlow) {
  TempDir dir;
  World w(1);
  w.model->set_optimizer(w.opt);  // reachable twice: saved once, under its first BFS path
  Checkpoint ckpt = w.checkpoint();
  const std::string path = ckpt.save(dir / "ckpt");
  EXPECT_EQ(path, dir / "ckpt-1");
  BundleReader r(path);
  std::vector<std::string> keys;
  for (const auto& [k, e] : r.entries()) keys.push_back(k);
  const std::vector<std::string> expected{
      "_CHECKPOINTABLE_OBJECT_GRAPH",
      "model/layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/bias/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
      "model/layer_with_weights-1/kernel/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
      "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
      "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE",
      "rng/.ATTRIBUTES/KEEL_STATE",
      "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
      "step/.ATTRIBUTES/VARIABLE_VALUE",
      "trainer/.ATTRIBUTES/KEEL_STATE",
  };
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(r.read("save_counter/.ATTRIBUTES/VARIABLE_VALUE").item<int64_t>(), 1);

  const auto g = stored_graph(path);
  // Root children: names sorted, then save_counter (as tf.train.Checkpoint).
  std::vector<std::string> root_children;
  for (const auto& c : g.nodes(0).children()) root_children.push_back(c.local_name());
  EXPECT_EQ(root_children, (std::vector<std::string>{"model", "optimizer", "rng", "step", "trainer", "save_counter"}));
  // Breadth-first ids: root, its 6 children, then model's children (layer_with_weights-0 and layer-0
  // share one node), ...; 8 slot nodes come last, m before v, variables in node order.
  const int n = g.nodes_size();
  ASSERT_GT(n, 8);
  int optimizer_node = g.nodes(0).children(1).node_id();
  EXPECT_EQ(optimizer_node, 2);
  const auto& slots = g.nodes(optimizer_node).slot_variables();
  ASSERT_EQ(slots.size(), 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(slots[i].slot_variable_node_id(), n - 8 + i);
    EXPECT_EQ(slots[i].slot_name(), i < 4 ? "m" : "v");
  }
  EXPECT_LT(slots[0].original_variable_node_id(), slots[1].original_variable_node_id());
  const auto& model = g.nodes(1);
  ASSERT_GE(model.children_size(), 5);
  EXPECT_EQ(model.children(0).local_name(), "layer_with_weights-0");
  EXPECT_EQ(model.children(1).local_name(), "layer-0");
  EXPECT_EQ(model.children(0).node_id(), model.children(1).node_id());
  EXPECT_EQ(model.children(4).local_name(), "optimizer");
  EXPECT_EQ(model.children(4).node_id(), optimizer_node);
  const auto& kernel = g.nodes(slots[0].original_variable_node_id());
  ASSERT_EQ(kernel.attributes_size(), 1);
  EXPECT_EQ(kernel.attributes(0).name(), "VARIABLE_VALUE");
  EXPECT_EQ(kernel.attributes(0).full_name(), "dense/kernel");
  EXPECT_EQ(kernel.attributes(0).checkpoint_key(), "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(g.nodes(i).has_has_checkpoint_values()) << i;
    EXPECT_TRUE(g.nodes(i).has_checkpoint_values().value()) << i;
  }
  const auto& trainer = g.nodes(g.nodes(0).children(4).node_id());
  ASSERT_EQ(trainer.attributes_size(), 1);
  EXPECT_EQ(trainer.attributes(0).name(), "KEEL_STATE");
  EXPECT_TRUE(trainer.attributes(0).optional_restore());
}

TEST(CheckpointRoundTrip, RestoresEveryValueBitForBit) {
  TempDir dir;
  World a(1);
  a.perturb(3);
  Checkpoint ca = a.checkpoint();
  const std::string path = ca.save(dir / "ckpt");
  ca.save(dir / "ckpt");  // save_counter 2 now

  World b(99);
  ASSERT_FALSE(b.model->layers[0]->kernel.value().equal(a.model->layers[0]->kernel.value()));
  Checkpoint cb = b.checkpoint();
  auto status = cb.restore(path);
  status.assert_consumed();
  status.assert_existing_objects_matched();
  EXPECT_TRUE(status.unused_checkpoint_keys().empty());
  EXPECT_TRUE(status.unmatched_live_objects().empty());
  EXPECT_TRUE(status.unmatched_checkpoint_objects().empty());
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(b.model->layers[i]->kernel.value().equal(a.model->layers[i]->kernel.value()));
    EXPECT_TRUE(b.model->layers[i]->bias.value().equal(a.model->layers[i]->bias.value()));
  }
  ASSERT_EQ(b.opt->slots.size(), a.opt->slots.size());
  for (size_t i = 0; i < a.opt->slots.size(); ++i) {
    EXPECT_TRUE(b.opt->slots[i].slot.value().equal(a.opt->slots[i].slot.value())) << i;
  }
  EXPECT_EQ(b.opt->iter.value().item<int64_t>(), 30);
  EXPECT_EQ(b.step.value().item<int64_t>(), int64_t{1} << 40);
  EXPECT_EQ(b.gen.state(), a.gen.state());
  EXPECT_EQ(b.trainer->s.epoch, 12);
  EXPECT_EQ(b.trainer->s.best, a.trainer->s.best);
  EXPECT_EQ(cb.save_counter().value().item<int64_t>(), 1);
  EXPECT_EQ(cb.save(dir / "again"), dir / "again-2");  // numbering continues from the restored counter
}

TEST(CheckpointRoundTrip, SameStateTwiceGivesByteIdenticalFiles) {
  TempDir dir;
  World w(5);
  w.perturb(2);
  Checkpoint c = w.checkpoint();
  c.write(dir / "one");
  c.write(dir / "two");
  EXPECT_FALSE(c.has_save_counter());  // write() does not create the counter
  for (const char* suffix : {".index", ".data-00000-of-00001"}) {
    const std::string x = slurp(dir / (std::string("one") + suffix));
    EXPECT_FALSE(x.empty());
    EXPECT_EQ(x, slurp(dir / (std::string("two") + suffix))) << suffix;
  }
}

TEST(CheckpointRoundTrip, SlotsCreatedOnRestoreWhenMissing) {
  TempDir dir;
  World a(1);
  a.perturb(1);
  const std::string path = a.checkpoint().write(dir / "w");
  World b(2);
  b.opt->slots.clear();  // optimizer not built yet: slots come from create_slot_for_restore
  b.checkpoint().read(path).assert_consumed();
  ASSERT_EQ(b.opt->slots.size(), 8u);
  for (const auto& s : a.opt->slots) {
    Variable orig_b = s.original.is(a.model->layers[0]->kernel) ? b.model->layers[0]->kernel
                      : s.original.is(a.model->layers[0]->bias) ? b.model->layers[0]->bias
                      : s.original.is(a.model->layers[1]->kernel) ? b.model->layers[1]->kernel
                                                                  : b.model->layers[1]->bias;
    EXPECT_TRUE(b.opt->slot(orig_b, s.slot_name).value().equal(s.slot.value())) << s.slot_name;
  }
}

TEST(CheckpointRoundTrip, ShapeMismatchNamesPathKeyAndBothShapes) {
  TempDir dir;
  auto dense = std::make_shared<TestDense>("dense", 784, 64);
  auto model = std::make_shared<Trackable>();
  model->track("dense", dense);
  const std::string path = Checkpoint({{"model", model}}).write(dir / "w");

  auto model2 = std::make_shared<Trackable>();
  model2->track("dense", std::make_shared<TestDense>("dense", 784, 128));
  try {
    Checkpoint({{"model", model2}}).read(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "restore: 'model/dense/kernel' (key model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE): "
                 "variable has [784,128] f32, checkpoint has [784,64] f32");
  }
  auto model3 = std::make_shared<Trackable>();
  auto d3 = std::make_shared<TestDense>("dense", 784, 64);
  d3->bias = Variable("b", Tensor::zeros({64}, DType::f64));
  d3->track_variable("bias", d3->bias);
  model3->track("dense", d3);
  try {
    Checkpoint({{"model", model3}}).read(path).expect_partial();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "restore: 'model/dense/bias' (key model/dense/bias/.ATTRIBUTES/VARIABLE_VALUE): "
                 "variable has [64] f64, checkpoint has [64] f32");
  }
}

// A restore that fails (a corrupt value in the last variable, a shape mismatch in the second layer)
// assigns nothing: no variable, slot, counter or object state holds a value of the failed checkpoint.
TEST(CheckpointRoundTrip, AFailedRestoreChangesNothing) {
  TempDir dir;
  World a(1);
  a.perturb(3);
  const std::string path = a.checkpoint().save(dir / "ckpt");
  auto expect_untouched = [](World& w, const World& fresh) {
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_TRUE(w.model->layers[i]->kernel.value().equal(fresh.model->layers[i]->kernel.value())) << i;
      EXPECT_TRUE(w.model->layers[i]->bias.value().equal(fresh.model->layers[i]->bias.value())) << i;
    }
    for (size_t i = 0; i < w.opt->slots.size(); ++i)
      EXPECT_TRUE(w.opt->slots[i].slot.value().equal(fresh.opt->slots[i].slot.value())) << i;
    EXPECT_EQ(w.opt->iter.value().item<int64_t>(), 0);
    EXPECT_EQ(w.step.value().item<int64_t>(), 0);
    EXPECT_EQ(w.trainer->s.epoch, 0);
  };

  // Flip one byte of the value stored last in the data file.
  const std::string data_file = path + ".data-00000-of-00001";
  std::string bytes = slurp(data_file);
  const BundleReader r(path);
  int64_t last = 0;
  std::string last_key;
  for (const auto& [k, e] : r.entries()) {
    if (e.dtype == DType::f32 && e.offset >= last) {
      last = e.offset;
      last_key = k;
    }
  }
  bytes[static_cast<size_t>(last)] ^= 0x10;
  std::ofstream(data_file, std::ios::binary | std::ios::trunc) << bytes;
  World b(99), fresh(99);
  try {
    b.checkpoint().restore(path);
    FAIL() << "expected a checksum error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key '" + last_key + "': checksum does not match"), std::string::npos)
        << e.what();
  }
  expect_untouched(b, fresh);

  // The same for a shape mismatch found after the first layer's values were matched.
  TempDir dir2;
  World c(1);
  c.perturb(3);
  const std::string path2 = c.checkpoint().save(dir2 / "ckpt");
  World d(99, true, 5), fresh_d(99, true, 5);
  EXPECT_THROW(d.checkpoint().restore(path2), Error);
  expect_untouched(d, fresh_d);
}

TEST(CheckpointRoundTrip, DeferredRestoreAppliesWhenTheChildIsCreated) {
  TempDir dir;
  World a(1);
  a.perturb(4);
  a.model->set_optimizer(a.opt);
  const std::string path = a.checkpoint().save(dir / "ckpt");

  World b(0, /*build=*/false);  // layers create their variables lazily; optimizer has no slots
  b.model->set_optimizer(b.opt);
  Checkpoint cb = b.checkpoint();
  auto status = cb.restore(path);
  EXPECT_EQ(status.unused_checkpoint_keys().size(), 12u);  // 4 weights + 8 slots wait
  EXPECT_NO_THROW(status.assert_existing_objects_matched());
  EXPECT_THROW(status.assert_consumed(), Error);
  EXPECT_TRUE(b.model->layers[0]->has_deferred());
  EXPECT_EQ(b.gen.state(), a.gen.state());  // what exists is restored at once

  b.model->layers[0]->build(123);  // creates kernel and bias: the waiting values land
  EXPECT_TRUE(b.model->layers[0]->kernel.value().equal(a.model->layers[0]->kernel.value()));
  EXPECT_TRUE(b.model->layers[0]->bias.value().equal(a.model->layers[0]->bias.value()));
  EXPECT_FALSE(b.model->layers[0]->has_deferred());
  EXPECT_EQ(status.unused_checkpoint_keys().size(), 6u);  // the other layer's 2 weights + 4 slots
  b.model->layers[1]->build(321);
  EXPECT_TRUE(b.model->layers[1]->kernel.value().equal(a.model->layers[1]->kernel.value()));
  status.assert_consumed();
  ASSERT_EQ(b.opt->slots.size(), 8u);
  EXPECT_TRUE(b.opt->slot(b.model->layers[1]->bias, "v").value().equal(a.opt->slot(a.model->layers[1]->bias, "v").value()));
}

TEST(CheckpointRoundTrip, DeferredObjectRestore) {
  TempDir dir;
  auto root_obj = std::make_shared<Trackable>();
  auto inner = std::make_shared<TestDense>("dense", 2, 2);
  root_obj->track("inner", inner);
  const std::string path = Checkpoint({{"holder", root_obj}}).write(dir / "w");

  auto holder = std::make_shared<Trackable>();
  auto status = Checkpoint({{"holder", holder}}).read(path);
  EXPECT_EQ(status.unmatched_checkpoint_objects(),
            (std::vector<std::string>{"holder/inner/kernel", "holder/inner/bias"}));
  auto late = std::make_shared<TestDense>("dense", 2, 2, false);
  holder->track("inner", late);  // the object appears: its subtree is matched, variables still lazy
  EXPECT_EQ(status.unused_checkpoint_keys().size(), 2u);
  late->build(77);
  status.assert_consumed();
  EXPECT_TRUE(late->kernel.value().equal(inner->kernel.value()));
}

TEST(CheckpointRoundTrip, UnmatchedOnBothSidesAreListed) {
  TempDir dir;
  auto a = std::make_shared<Trackable>();
  a->track_variable("x", Variable("x", Tensor::scalar(1)));
  a->track_variable("only_saved", Variable("y", Tensor::scalar(2)));
  const std::string path = Checkpoint({{"a", a}}).write(dir / "w");
  auto b = std::make_shared<Trackable>();
  Variable x("x", Tensor::scalar(0));
  b->track_variable("x", x);
  b->track_variable("only_live", Variable("z", Tensor::scalar(3)));
  auto status = Checkpoint({{"a", b}}).read(path);
  EXPECT_EQ(x.value().item<float>(), 1.0f);
  EXPECT_EQ(status.unused_checkpoint_keys(), (std::vector<std::string>{"a/only_saved/.ATTRIBUTES/VARIABLE_VALUE"}));
  EXPECT_EQ(status.unmatched_checkpoint_objects(), (std::vector<std::string>{"a/only_saved"}));
  EXPECT_EQ(status.unmatched_live_objects(), (std::vector<std::string>{"a/only_live"}));
  try {
    status.assert_existing_objects_matched();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 live object(s) without a checkpoint value [a/only_live]"),
              std::string::npos)
        << e.what();
  }
  status.expect_partial();
}

TEST(CheckpointRoundTrip, AssertNontrivialMatch) {
  // TF's assert_nontrivial_match: an error when nothing but the root matched (save_counter, which
  // every Checkpoint::restore creates, does not count), naming what found no value.
  TempDir dir;
  auto a = std::make_shared<Trackable>();
  a->track_variable("x", Variable("x", Tensor::scalar(1)));
  Checkpoint saved({{"a", a}});
  const std::string path = saved.save(dir / "ckpt");
  auto same = std::make_shared<Trackable>();
  same->track_variable("x", Variable("x", Tensor::scalar(0)));
  Checkpoint({{"a", same}}).restore(path).assert_nontrivial_match();

  Variable other("w", Tensor::zeros({2}));
  Checkpoint unrelated({{"model", other}});
  const std::string err = test::error_of([&] { unrelated.restore(path).assert_nontrivial_match(); });
  EXPECT_EQ(err, "restore '" + path + "': nothing except the root object matched a checkpointed value (the "
                 "checkpoint does not match the program); 1 live object(s) without a value [model]; "
                 "checkpoint objects not matched [a/x]");
  Checkpoint empty(std::vector<std::pair<std::string, Checkpoint::Item>>{});
  EXPECT_EQ(test::error_of([&] { empty.read(path).assert_nontrivial_match(); }),
            "restore '" + path + "': nothing to load: the root has no dependencies yet");
}

TEST(CheckpointRoundTrip, RestoreOfNulloptRestoresNothing) {
  // TF: checkpoint.restore(manager.latest_checkpoint) with None gives an InitializationOnlyStatus whose
  // assert_consumed() (and the other asserts) raise 'No checkpoint specified (save_path=None)'.
  TempDir dir;
  Variable x("x", Tensor::scalar(4));
  Checkpoint ckpt({{"x", x}});
  const std::optional<std::string> none = latest_checkpoint(dir.path());  // no state file yet
  auto status = ckpt.restore(none);
  EXPECT_TRUE(ckpt.has_save_counter());
  EXPECT_EQ(x.value().item<float>(), 4.0f);
  EXPECT_EQ(status.path(), "");
  EXPECT_EQ(status.restored_count(), 0u);
  status.expect_partial();
  const std::string err = "restore: no checkpoint specified (std::nullopt); nothing is being restored";
  EXPECT_EQ(test::error_of([&] { status.assert_consumed(); }), err);
  EXPECT_EQ(test::error_of([&] { status.assert_existing_objects_matched(); }), err);
  EXPECT_EQ(test::error_of([&] { status.assert_nontrivial_match(); }), err);
  const std::optional<std::string> saved = ckpt.save(dir / "ckpt");
  x.assign(Tensor::scalar(0));
  ckpt.restore(saved).assert_consumed();
  EXPECT_EQ(x.value().item<float>(), 4.0f);
}

}  // namespace
}  // namespace keel

namespace keel {
namespace {

std::string parse_error(const tf::TrackableObjectGraph& g) {
  try {
    parse_object_graph(g.SerializeAsString(), "hostile");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ObjectGraphParse, RejectsBadIdsAndPathsThatWouldExhaustMemory) {
  tf::TrackableObjectGraph g;
  auto* child = g.add_nodes()->add_children();
  child->set_node_id(1);
  child->set_local_name("a");
  EXPECT_EQ(parse_error(g), "hostile: object graph node 0: child node id 1 is out of range (1 nodes)");

  // A chain of 20,000 nodes with 25 '/' per edge name (each escaped to ".S"): 0.7 MB of graph whose
  // paths would take 10 GB (the path at depth d is 51d - 1 bytes). Refused before any path is made;
  // a chain of 200 is fine.
  auto chain = [](int n) {
    tf::TrackableObjectGraph c;
    for (int i = 0; i < n; ++i) {
      auto* node = c.add_nodes();
      if (i + 1 < n) {
        auto* edge = node->add_children();
        edge->set_node_id(i + 1);
        edge->set_local_name(std::string(25, '/'));
      }
    }
    return c;
  };
  const std::string msg = parse_error(chain(20000));
  EXPECT_EQ(msg.rfind("hostile: object graph _CHECKPOINTABLE_OBJECT_GRAPH (20000 nodes, ", 0), 0u) << msg;
  EXPECT_NE(msg.find("has object paths of 10199470001 bytes in all, more than the 268435456"), std::string::npos)
      << msg;
  const auto small = chain(200);
  EXPECT_EQ(parse_error(small), "");
  EXPECT_EQ(object_graph_paths(small)[199].size(), 199u * 51 - 1);
}

}  // namespace
}  // namespace keel
