// CheckpointManager: numbering, max_to_keep, keep_checkpoint_every_n_hours, the state file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/manager.h"

namespace keel {
namespace {

using testing::TempDir;

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
bool exists(const std::string& f) { return std::filesystem::exists(f); }

struct Fixture {
  Variable w{"w", Tensor::zeros({3}), true};
  Variable step{"step", Tensor::from_vector<int64_t>({0}, Shape{}), false};
  Checkpoint ckpt{{"w", w}, {"step", step}};
  double t = 1000.5;
  CheckpointManagerOptions opts() {
    return CheckpointManagerOptions().clock([this] { return t; });
  }
  void set(int64_t k) {
    w.assign(Tensor::full({3}, static_cast<double>(k)));
    step.assign(Tensor::from_vector<int64_t>({k}, Shape{}));
  }
};

TEST(CheckpointManager, KeepsTheNewestAndWritesTensorFlowsStateFile) {
  TempDir dir;
  Fixture f;
  CheckpointManager mgr(f.ckpt, dir.path(), f.opts().max_to_keep(2));
  EXPECT_FALSE(mgr.latest_checkpoint().has_value());
  for (int k = 1; k <= 4; ++k) {
    f.set(k);
    f.t += 10;
    EXPECT_EQ(mgr.save(), dir / ("ckpt-" + std::to_string(k)));
  }
  EXPECT_EQ(mgr.checkpoints(), (std::vector<std::string>{dir / "ckpt-3", dir / "ckpt-4"}));
  EXPECT_EQ(mgr.latest_checkpoint(), dir / "ckpt-4");
  EXPECT_EQ(latest_checkpoint(dir.path()), dir / "ckpt-4");
  EXPECT_FALSE(exists(dir / "ckpt-1.index"));
  EXPECT_FALSE(exists(dir / "ckpt-2.data-00000-of-00001"));
  EXPECT_TRUE(exists(dir / "ckpt-3.index"));
  EXPECT_TRUE(exists(dir / "ckpt-4.data-00000-of-00001"));
  EXPECT_EQ(slurp(dir / "checkpoint"),
            "model_checkpoint_path: \"ckpt-4\"\n"
            "all_model_checkpoint_paths: \"ckpt-3\"\n"
            "all_model_checkpoint_paths: \"ckpt-4\"\n"
            "all_model_checkpoint_timestamps: 1030.5\n"
            "all_model_checkpoint_timestamps: 1040.5\n"
            "last_preserved_timestamp: 999.5\n");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 5);  // checkpoint + 2 x (index, data): no temporaries left
}

TEST(CheckpointManager, ANewManagerContinuesAndRestoresTheLatest) {
  TempDir dir;
  {
    Fixture f;
    CheckpointManager mgr(f.ckpt, dir.path(), f.opts().max_to_keep(3));
    for (int k = 1; k <= 3; ++k) {
      f.set(k * 10);
      f.t += 1;
      mgr.save();
    }
  }
  Fixture g;
  g.t = 2000;
  CheckpointManager mgr(g.ckpt, dir.path(), g.opts().max_to_keep(3));
  EXPECT_EQ(mgr.checkpoints().size(), 3u);
  EXPECT_EQ(mgr.restore_or_initialize(), dir / "ckpt-3");
  EXPECT_EQ(g.step.value().item<int64_t>(), 30);
  EXPECT_FLOAT_EQ(g.w.value().at<float>({2}), 30.0f);
  EXPECT_EQ(g.ckpt.save_counter().value().item<int64_t>(), 3);
  EXPECT_EQ(mgr.save(), dir / "ckpt-4");
  EXPECT_EQ(mgr.checkpoints(), (std::vector<std::string>{dir / "ckpt-2", dir / "ckpt-3", dir / "ckpt-4"}));
  EXPECT_FALSE(exists(dir / "ckpt-1.index"));
  EXPECT_EQ(mgr.save(100), dir / "ckpt-100");  // explicit number; save_counter still counts
  EXPECT_EQ(g.ckpt.save_counter().value().item<int64_t>(), 5);

  TempDir empty;
  Fixture h;
  CheckpointManager fresh(h.ckpt, empty.path(), h.opts());
  EXPECT_FALSE(fresh.restore_or_initialize().has_value());
  EXPECT_EQ(h.step.value().item<int64_t>(), 0);
}

TEST(CheckpointManager, KeepCheckpointEveryNHours) {
  TempDir dir;
  Fixture f;
  f.t = 0;
  CheckpointManager mgr(f.ckpt, dir.path(),
                        f.opts().max_to_keep(1).keep_checkpoint_every_n_hours(1.0).checkpoint_name("model"));
  for (int k = 1; k <= 6; ++k) {
    f.t += 1800;  // half an hour per save
    mgr.save();
  }
  // Pruned oldest first against last_preserved (starts at -1): model-1 (t=1800 < -1+3600: deleted),
  // model-2 (3600: preserved), model-3 (5400 < 3600+3600: deleted), model-4 (7200: preserved),
  // model-5 (9000: deleted); model-6 is the one listed.
  EXPECT_FALSE(exists(dir / "model-1.index"));
  EXPECT_TRUE(exists(dir / "model-2.index"));
  EXPECT_FALSE(exists(dir / "model-3.index"));
  EXPECT_TRUE(exists(dir / "model-4.index"));
  EXPECT_FALSE(exists(dir / "model-5.index"));
  EXPECT_TRUE(exists(dir / "model-6.index"));
  EXPECT_EQ(mgr.checkpoints(), (std::vector<std::string>{dir / "model-6"}));
  const auto state = read_checkpoint_state(dir.path());
  EXPECT_EQ(state->last_preserved_timestamp, 7200.0);
}

TEST(CheckpointManager, KeepsEverythingWithoutMaxToKeep) {
  TempDir dir;
  Fixture f;
  CheckpointManager mgr(f.ckpt, dir.path(), std::nullopt);
  for (int k = 0; k < 7; ++k) mgr.save();
  EXPECT_EQ(mgr.checkpoints().size(), 7u);
  EXPECT_TRUE(exists(dir / "ckpt-1.index"));
  // As in TensorFlow, 0 or a negative number is an error, not another way to say "keep all".
  for (int bad : {0, -1}) {
    try {
      CheckpointManager m(f.ckpt, dir.path(), bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "CheckpointManager: max_to_keep must be a positive number or std::nullopt "
                                       "(keep all), got " + std::to_string(bad));
    }
  }
}

TEST(CheckpointManager, CorruptStateFileIsAnErrorNamingIt) {
  TempDir dir;
  std::ofstream(dir / "checkpoint") << "model_checkpoint_path: 12 12\n";
  Fixture f;
  try {
    CheckpointManager mgr(f.ckpt, dir.path(), f.opts());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), ("checkpoint state file '" + (dir / "checkpoint") +
                            "' is not a valid CheckpointState text proto (line 1, column 24: Expected "
                            "string, got: 12)").c_str());
  }
}

TEST(CheckpointManager, CheckpointIntervalSavesEveryNStepsOfTheStepCounter) {
  // TF's step_counter + checkpoint_interval: save() returns None (here nullopt) when the counter is
  // where the last save left it, or (check_interval) less than the interval past it.
  TempDir dir;
  Fixture f;
  {
    CheckpointManager mgr(f.ckpt, dir.path(), f.opts().step_counter(f.step).checkpoint_interval(10));
    EXPECT_EQ(mgr.checkpoint_interval(), 10);
    EXPECT_EQ(mgr.save(), dir / "ckpt-1");  // the first save always happens (step 0)
    EXPECT_FALSE(mgr.save().has_value());   // same step
    f.set(9);
    EXPECT_FALSE(mgr.save().has_value());   // 9 < 0 + 10
    EXPECT_EQ(f.ckpt.save_counter().value().item<int64_t>(), 1);  // skipped saves do not count
    f.set(10);
    EXPECT_EQ(mgr.save(), dir / "ckpt-2");
    f.set(12);
    EXPECT_EQ(mgr.save(std::nullopt, /*check_interval=*/false), dir / "ckpt-3");
    EXPECT_FALSE(mgr.save(std::nullopt, false).has_value());  // never twice at one step
    EXPECT_EQ(mgr.checkpoints().size(), 3u);
  }
  // restore_or_initialize() takes the restored step as the last saved one.
  Fixture g;
  CheckpointManager mgr(g.ckpt, dir.path(), g.opts().step_counter(g.step).checkpoint_interval(10));
  EXPECT_EQ(mgr.restore_or_initialize(), dir / "ckpt-3");
  EXPECT_EQ(g.step.value().item<int64_t>(), 12);
  EXPECT_FALSE(mgr.save().has_value());
  g.set(22);
  EXPECT_EQ(mgr.save(), dir / "ckpt-4");

  try {
    CheckpointManager bad(g.ckpt, dir.path(), g.opts().checkpoint_interval(5));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CheckpointManager: checkpoint_interval 5 needs a step_counter (an integer scalar "
                           "Variable), none was given");
  }
  try {
    CheckpointManager bad(g.ckpt, dir.path(), g.opts().step_counter(g.w).checkpoint_interval(5));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CheckpointManager: step_counter 'w' must be an integer scalar, got [3] f32");
  }
}

TEST(CheckpointManager, RestoreOrInitializeCallsInitFnOnlyWithoutACheckpoint) {
  TempDir dir;
  Fixture f;
  int calls = 0;
  CheckpointManager mgr(f.ckpt, dir.path(), f.opts().init_fn([&] {
    ++calls;
    f.set(7);
  }));
  EXPECT_FALSE(mgr.restore_or_initialize().has_value());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f.step.value().item<int64_t>(), 7);
  mgr.save();
  f.set(0);
  EXPECT_EQ(mgr.restore_or_initialize(), dir / "ckpt-1");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f.step.value().item<int64_t>(), 7);
}

// A restore into a model whose layers are not built yet leaves their values waiting; a save before the
// build does not hold them. With max_to_keep 1 that save deleted the checkpoint they came from, their only
// copy: it is kept (and listed) until they have been applied, then deleted by a later save.
TEST(CheckpointManager, KeepsTheCheckpointWhoseRestoredValuesStillWait) {
  TempDir dir;
  const std::string d = dir.path() + "/ckpts";
  Tensor saved_kernel;
  {
    auto dense = std::make_shared<testing::TestDense>("dense", 3, 2);
    saved_kernel = dense->kernel.value().clone();
    Checkpoint ckpt{{"dense", dense}};
    CheckpointManager m(ckpt, d, CheckpointManagerOptions().max_to_keep(1));
    m.save();
  }
  auto dense = std::make_shared<testing::TestDense>("dense", 3, 2, /*build_now=*/false);
  Checkpoint ckpt{{"dense", dense}};
  CheckpointManager m(ckpt, d, CheckpointManagerOptions().max_to_keep(1));
  ASSERT_EQ(m.restore_or_initialize(), d + "/ckpt-1");
  ASSERT_TRUE(ckpt.pending_restore());
  EXPECT_EQ(ckpt.pending_restore()->prefix, d + "/ckpt-1");
  EXPECT_EQ(ckpt.pending_restore()->objects, 2u);  // kernel and bias
  ::testing::internal::CaptureStderr();
  m.save();  // ckpt-2: save_counter only
  const std::string warned = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(warned.find("keel: warning: writing '" + d + "/ckpt-2' while 2 object(s) restored from '" + d +
                        "/ckpt-1' wait to be created"), std::string::npos) << warned;
  EXPECT_NE(warned.find("keel: warning: CheckpointManager: keeping '" + d + "/ckpt-1' past max_to_keep"),
            std::string::npos) << warned;
  EXPECT_TRUE(exists(d + "/ckpt-1.index"));
  EXPECT_EQ(m.checkpoints(), (std::vector<std::string>{d + "/ckpt-1", d + "/ckpt-2"}));
  dense->build(7);  // the layer's first call: the waiting values arrive
  EXPECT_TRUE(dense->kernel.value().equal(saved_kernel));
  EXPECT_FALSE(ckpt.pending_restore());
  m.save();
  EXPECT_FALSE(exists(d + "/ckpt-1.index"));
  EXPECT_FALSE(exists(d + "/ckpt-2.index"));
  EXPECT_EQ(m.checkpoints(), (std::vector<std::string>{d + "/ckpt-3"}));
}

TEST(CheckpointManager, SaveStagesRunInCrashSafeOrder) {
  TempDir dir;
  Fixture f;
  std::vector<std::string> stages;
  CheckpointManager mgr(f.ckpt, dir.path(),
                        f.opts().max_to_keep(1).hook([&](const char* s) { stages.push_back(s); }));
  mgr.save();
  stages.clear();
  mgr.save();
  EXPECT_EQ(stages, (std::vector<std::string>{"bundle_written", "state_temp_written", "state_renamed", "deleting",
                                              "deleted", "state_temp_written", "state_renamed", "saved"}));
}

}  // namespace
}  // namespace keel
