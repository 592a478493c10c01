// The `checkpoint` state file: TF's text format, atomic replacement, latest_checkpoint.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"

namespace keel {
namespace {

using testing::fixture;
using testing::TempDir;

std::string slurp(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void spit(const std::string& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

TEST(StateFile, ReadsAndReprintsTensorFlowsFileByteForByte) {
  const std::string dir = fixture("tf_checkpoints/tictactoe");
  auto s = read_checkpoint_state(dir);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->model_checkpoint_path, "ckpt-19");
  EXPECT_EQ(s->all_model_checkpoint_paths, (std::vector<std::string>{"ckpt-17", "ckpt-18", "ckpt-19"}));
  ASSERT_EQ(s->all_model_checkpoint_timestamps.size(), 3u);
  EXPECT_DOUBLE_EQ(s->all_model_checkpoint_timestamps[0], 1673735799.685766);
  EXPECT_DOUBLE_EQ(s->last_preserved_timestamp, 1673735591.495455);
  EXPECT_EQ(checkpoint_state_to_text(*s), slurp(dir + "/checkpoint"));
}

TEST(StateFile, TextFormatLikePython) {
  CheckpointStateFile s;
  s.model_checkpoint_path = "ckpt-3";
  s.all_model_checkpoint_paths = {"ckpt-2", "ckpt-3"};
  s.all_model_checkpoint_timestamps = {1700000000.0, 1700000000.1};
  s.last_preserved_timestamp = 1699999990.0;
  EXPECT_EQ(checkpoint_state_to_text(s),
            "model_checkpoint_path: \"ckpt-3\"\n"
            "all_model_checkpoint_paths: \"ckpt-2\"\n"
            "all_model_checkpoint_paths: \"ckpt-3\"\n"
            "all_model_checkpoint_timestamps: 1700000000.0\n"
            "all_model_checkpoint_timestamps: 1700000000.1\n"
            "last_preserved_timestamp: 1699999990.0\n");
  CheckpointStateFile e;
  e.all_model_checkpoint_timestamps = {1e16, 1.5e-5, 0.1 + 0.2, 123.0, 0.0001, 1234567890123456.7};
  EXPECT_EQ(checkpoint_state_to_text(e),
            "all_model_checkpoint_timestamps: 1e+16\n"
            "all_model_checkpoint_timestamps: 1.5e-05\n"
            "all_model_checkpoint_timestamps: 0.30000000000000004\n"
            "all_model_checkpoint_timestamps: 123.0\n"
            "all_model_checkpoint_timestamps: 0.0001\n"
            "all_model_checkpoint_timestamps: 1234567890123456.8\n");
  // Round trip, including values that need 17 digits.
  s.all_model_checkpoint_timestamps = {0.1 + 0.2, 1e-7, 123456789.123456789};
  auto back = parse_checkpoint_state(checkpoint_state_to_text(s), "mem");
  EXPECT_EQ(back.all_model_checkpoint_timestamps, s.all_model_checkpoint_timestamps);
  // save_weights style: only the path.
  CheckpointStateFile w;
  w.model_checkpoint_path = "cp-0005.ckpt";
  w.all_model_checkpoint_paths = {"cp-0005.ckpt"};
  EXPECT_EQ(checkpoint_state_to_text(w),
            "model_checkpoint_path: \"cp-0005.ckpt\"\nall_model_checkpoint_paths: \"cp-0005.ckpt\"\n");
}

TEST(StateFile, LatestCheckpointToleratesDanglingEntries) {
  // The fixture lists ckpt-17, which is not on disk; the latest is ckpt-19.
  EXPECT_EQ(latest_checkpoint(fixture("tf_checkpoints/tictactoe")), fixture("tf_checkpoints/tictactoe/ckpt-19"));
  TempDir dir;
  EXPECT_FALSE(latest_checkpoint(dir.path()).has_value());  // no state file
  CheckpointStateFile s;
  s.model_checkpoint_path = "ckpt-5";  // dangling: latest_checkpoint says none
  s.all_model_checkpoint_paths = {"ckpt-5"};
  write_checkpoint_state(dir.path(), s);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(latest_checkpoint(dir.path()).has_value());
  // As TF's logging.error("Couldn't match files for checkpoint ..."), not silence.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "keel: warning: latest_checkpoint: checkpoint state file '" + (dir / "checkpoint") + "' names '" +
                (dir / "ckpt-5") + "', which does not exist (no " + (dir / "ckpt-5") + ".index)\n");
  spit(dir / "ckpt-5.index", "x");
  EXPECT_EQ(latest_checkpoint(dir.path()), dir / "ckpt-5");
  s.model_checkpoint_path = dir / "ckpt-5";  // absolute paths are kept as they are
  write_checkpoint_state(dir.path(), s);
  EXPECT_EQ(latest_checkpoint(dir.path()), dir / "ckpt-5");
}

TEST(StateFile, LatestCheckpointWithACustomLatestFilename) {
  // tf.train.latest_checkpoint(dir, latest_filename): the state file of a Saver(save(latest_filename=...)).
  TempDir dir;
  spit(dir / "ckpt-2.index", "x");
  spit(dir / "my_state", "model_checkpoint_path: \"ckpt-2\"\nall_model_checkpoint_paths: \"ckpt-2\"\n");
  EXPECT_FALSE(latest_checkpoint(dir.path()).has_value());
  EXPECT_EQ(latest_checkpoint(dir.path(), "my_state"), dir / "ckpt-2");
  EXPECT_EQ(read_checkpoint_state(dir.path(), "my_state")->all_model_checkpoint_paths,
            std::vector<std::string>{"ckpt-2"});
}

TEST(StateFile, NoModelCheckpointPathIsAnError) {
  // TF's get_checkpoint_state raises "Invalid checkpoint state loaded from DIR" for such a file (an
  // empty one included); keel read it as "no checkpoint here", so a manager started over the list.
  TempDir dir;
  for (const std::string text : {"all_model_checkpoint_paths: \"ckpt-1\"\n", ""}) {
    spit(dir / "checkpoint", text);
    try {
      latest_checkpoint(dir.path());
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "checkpoint state file '" + (dir / "checkpoint") +
                                           "' has no model_checkpoint_path (" + (text.empty() ? "0" : "1") +
                                           " all_model_checkpoint_paths); TensorFlow refuses it as an invalid "
                                           "checkpoint state too");
    }
  }
}

TEST(StateFile, CorruptFileIsAnErrorNamingIt) {
  TempDir dir;
  spit(dir / "checkpoint", "model_checkpoint_path: \"ckpt-1\"\nall_model_checkpoint_paths: ckpt-1 {{{\n");
  try {
    latest_checkpoint(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), ("checkpoint state file '" + (dir / "checkpoint") +
                            "' is not a valid CheckpointState text proto (line 2, column 29: Expected "
                            "string, got: ckpt)").c_str());
  }
  spit(dir / "checkpoint", std::string("\x08\x96\x01\xff\xfe", 5));
  EXPECT_THROW(read_checkpoint_state(dir.path()), Error);
  spit(dir / "checkpoint", "unknown_field: 3\n");
  EXPECT_THROW(read_checkpoint_state(dir.path()), Error);
  // A FIFO (or any non-regular file) in its place is refused, not opened (which would block forever).
  std::filesystem::remove(dir / "checkpoint");
  ASSERT_EQ(::mkfifo((dir / "checkpoint").c_str(), 0644), 0);
  try {
    latest_checkpoint(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "checkpoint state file '" + (dir / "checkpoint") + "' is not a regular file");
  }
}

TEST(StateFile, AtomicWriteLeavesNoTemporaryAndReplaces) {
  TempDir dir;
  CheckpointStateFile s;
  s.model_checkpoint_path = "a";
  std::vector<std::string> stages;
  write_checkpoint_state(dir.path(), s, [&](const char* st) { stages.push_back(st); });
  EXPECT_EQ(stages, (std::vector<std::string>{"state_temp_written", "state_renamed"}));
  s.model_checkpoint_path = "b";
  write_checkpoint_state(dir.path(), s);
  EXPECT_EQ(read_checkpoint_state(dir.path())->model_checkpoint_path, "b");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "checkpoint");
  }
  EXPECT_EQ(files, 1);
  // A hook that throws between temp and rename leaves the old file in place (the temp stays, as
  // after a crash, and is ignored).
  s.model_checkpoint_path = "c";
  EXPECT_THROW(write_checkpoint_state(dir.path(), s,
                                      [](const char* st) {
                                        if (std::string(st) == "state_temp_written") throw Error("boom");
                                      }),
               Error);
  EXPECT_EQ(read_checkpoint_state(dir.path())->model_checkpoint_path, "b");
}

}  // namespace
}  // namespace keel
