// Fuzzes the object-graph side of checkpoints: the first byte picks the target.
//   0: parse_object_graph + paths / has_values / describe on hostile TrackableObjectGraph bytes
//   1: parse_checkpoint_state on hostile `checkpoint` state-file text
//   2: a full restore: the bytes become the stored object graph of a bundle (with an f32[2] value
//      under every key it names, up to 64), restored into a small fixed live graph with slots
// Every failure must be a keel::Error; cycles, self-edges and dangling ids must not hang or crash.
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"

using namespace keel;

namespace {

struct Opt : Trackable {
  std::vector<SlotVariable> slots;
  std::vector<SlotVariable> slot_variables() const override { return slots; }
  Variable create_slot_for_restore(const Variable& v, const std::string& name) override {
    if (slots.size() >= 16) return Variable();
    Variable s(name, Tensor::zeros(v.shape(), v.dtype()), false);
    slots.push_back({v, name, s});
    return s;
  }
};

void restore_target(const std::string& graph_bytes) {
  tf::TrackableObjectGraph g;
  try {
    g = parse_object_graph(graph_bytes, "fuzz");
  } catch (const Error&) {
    return;
  }
  static const std::string prefix = "/dev/shm/keel_fuzz_graph_" + std::to_string(::getpid());
  {
    BundleWriter w(prefix);
    w.add(kObjectGraphKey, Tensor::strings({graph_bytes}, {}));
    std::set<std::string> keys;
    for (const auto& n : g.nodes()) {
      for (const auto& a : n.attributes()) {
        if (keys.size() < 64 && !a.checkpoint_key().empty() && a.checkpoint_key() != kObjectGraphKey)
          keys.insert(a.checkpoint_key());
      }
    }
    for (const auto& k : keys) w.add(k, Tensor::ones({2}));
    w.finish();
  }
  auto a = std::make_shared<Trackable>();
  Variable x("x", Tensor::zeros({2}));
  a->track_variable("x", x);
  auto opt = std::make_shared<Opt>();
  opt->track_variable("iter", Variable("iter", Tensor::zeros({2}), false));
  a->track("optimizer", opt);
  a->track("self", a);  // a cycle on the live side too
  Checkpoint ckpt({{"a", a}, {"b", Variable("b", Tensor::zeros({2}))}, {"optimizer", opt}});
  try {
    auto status = ckpt.read(prefix);
    status.expect_partial();
    (void)status.unused_checkpoint_keys();
    (void)status.unmatched_live_objects();
    a->track_variable("late", Variable("late", Tensor::zeros({2})));  // may run a deferred restore
  } catch (const Error&) {
  }
  a->untrack("self");  // break the live cycle so nothing leaks between runs
  a->clear_deferred();
  opt->clear_deferred();
  ckpt.root()->clear_deferred();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 20)) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      try {
        const auto g = parse_object_graph(bytes, "fuzz");
        if (object_graph_paths(g).size() != static_cast<size_t>(g.nodes_size())) std::abort();
        (void)object_graph_has_values(g);
        (void)describe_object_graph(g);
      } catch (const Error&) {
      }
      break;
    case 1:
      try {
        const auto s = parse_checkpoint_state(bytes, "fuzz");
        // What keel prints, keel reads back identically.
        if (checkpoint_state_to_text(parse_checkpoint_state(checkpoint_state_to_text(s), "again")) !=
            checkpoint_state_to_text(s))
          std::abort();
      } catch (const Error&) {
      }
      break;
    default:
      restore_target(bytes);
  }
  return 0;
}
