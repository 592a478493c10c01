// Versioned non-tensor state (Boost.Serialization) and generator state in checkpoints.
#include <gtest/gtest.h>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/generator_trackable.h"
#include "keel/checkpoint/state.h"

// Two versions of one state struct, as they would exist in two releases of a program. Boost records
// the class version in the archive; the v2 reader sees version 1 and skips the fields v1 lacked.
struct LoopStateV1 {
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  template <class A>
  void serialize(A& ar, unsigned /*version*/) {
    ar & epoch;
    ar & step_in_epoch;
  }
};
BOOST_CLASS_VERSION(LoopStateV1, 1)

struct LoopStateV2 {
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  std::map<std::string, double> best;  // new in version 2
  std::vector<double> history;         // new in version 2
  template <class A>
  void serialize(A& ar, unsigned version) {
    ar & epoch;
    ar & step_in_epoch;
    if (version >= 2) {
      ar & best;
      ar & history;
    }
  }
};
BOOST_CLASS_VERSION(LoopStateV2, 2)

namespace keel {
namespace {

using testing::TempDir;

template <class S>
struct LoopTrackable : Trackable {
  S s;
  bool has_state() const override { return true; }
  std::string save_state() const override { return state_to_string(s, "Loop"); }
  void restore_state(const std::string& b) override { s = state_from_string<S>(b, "Loop"); }
};

TEST(State, V1ArchiveLoadsIntoV2Reader) {
  LoopStateV1 v1{3, 41};
  const std::string bytes = state_to_string(v1, "Loop");
  auto v2 = state_from_string<LoopStateV2>(bytes, "Loop");
  EXPECT_EQ(v2.epoch, 3);
  EXPECT_EQ(v2.step_in_epoch, 41);
  EXPECT_TRUE(v2.best.empty());
  LoopStateV2 full{5, 6, {{"val_loss", 0.5}}, {1.5, 2.25}};
  auto back = state_from_string<LoopStateV2>(state_to_string(full, "Loop"), "Loop");
  EXPECT_EQ(back.best, full.best);
  EXPECT_EQ(back.history, full.history);
}

TEST(State, V1CheckpointRestoresIntoV2Object) {
  TempDir dir;
  auto old_obj = std::make_shared<LoopTrackable<LoopStateV1>>();
  old_obj->s = {7, 99};
  const std::string path = Checkpoint({{"loop", old_obj}}).write(dir / "v1");

  auto new_obj = std::make_shared<LoopTrackable<LoopStateV2>>();
  new_obj->s.best = {{"stale", 1.0}};
  Checkpoint({{"loop", new_obj}}).read(path).assert_consumed();
  EXPECT_EQ(new_obj->s.epoch, 7);
  EXPECT_EQ(new_obj->s.step_in_epoch, 99);
  EXPECT_TRUE(new_obj->s.best.empty());  // restored from a v1 archive: default
}

TEST(State, DamagedStateIsAnErrorNamingTheObject) {
  try {
    state_from_string<LoopStateV2>("22 serialization::archive 19 garbage", "Trainer 'fit'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("Trainer 'fit': cannot read saved state (", 0), 0u) << e.what();
  }
  EXPECT_THROW(state_from_string<LoopStateV2>("", "x"), Error);
}

TEST(State, GeneratorStateRoundTripsExactly) {
  TempDir dir;
  Generator g(0xdeadbeefcafeULL);
  for (int i = 0; i < 1000; ++i) g.next_block();
  auto tr = std::make_shared<GeneratorTrackable>(g);
  const std::string path = Checkpoint({{"rng", tr}}).write(dir / "g");
  const auto expected_next = g.next_block();  // what the generator draws after the save

  Generator h(1);
  Checkpoint({{"rng", std::make_shared<GeneratorTrackable>(h)}}).read(path).assert_consumed();
  EXPECT_EQ(h.seed(), 0xdeadbeefcafeULL);
  EXPECT_EQ(h.counter(), 1000u);
  EXPECT_EQ(h.next_block(), expected_next);
}

}  // namespace
}  // namespace keel
