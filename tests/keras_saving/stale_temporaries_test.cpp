// Temporaries left by killed saves (`<target>.keel-tmp-<pid>-<n>`) are removed by the next save to the
// same place once their writer is dead; those of live writers and look-alikes stay.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/temp_path.h"
#include "keel/keras/sequential.h"
#include "../keras_h5/h5_test_util.h"

namespace keel::keras {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

// The pid of a child that has exited and been reaped: no process has it (until the kernel reuses it).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void touch(const std::string& path) { std::ofstream(path) << "partial"; }

std::shared_ptr<Model> small_model() {
  backend::NameScope names;
  return std::make_shared<Sequential>(std::vector<LayerArg>{layers::Dense(DenseOptions(2).input_shape({3}))});
}

TEST(KerasStaleTemporaries, NextSaveRemovesThoseOfDeadWriters) {
  ScratchDir dir;
  const pid_t dead = dead_pid();
  const std::string h5 = dir.path("m.h5"), tree = dir.path("export");
  const std::string dead_file = h5 + ".keel-tmp-" + std::to_string(dead) + "-0";
  const std::string dead_tree = tree + ".keel-tmp-" + std::to_string(dead) + "-3";
  const std::string live_file = h5 + ".keel-tmp-" + std::to_string(::getppid()) + "-0";  // our parent is alive
  const std::string lookalike = h5 + ".keel-tmp-" + std::to_string(dead) + "-x";
  const std::string other_target = dir.path("other.h5.keel-tmp-") + std::to_string(dead) + "-0";
  touch(dead_file);
  fs::create_directories(dead_tree + "/variables");
  touch(dead_tree + "/variables/variables.index");
  touch(live_file);
  touch(lookalike);
  touch(other_target);

  auto model = small_model();
  model->save(h5);
  EXPECT_FALSE(fs::exists(dead_file));
  EXPECT_TRUE(fs::exists(dead_tree));  // belongs to another target
  model->save(tree);
  EXPECT_FALSE(fs::exists(dead_tree));
  EXPECT_TRUE(fs::exists(live_file));
  EXPECT_TRUE(fs::exists(lookalike));
  EXPECT_TRUE(fs::exists(other_target));
  EXPECT_TRUE(fs::is_regular_file(h5));
  EXPECT_TRUE(fs::is_regular_file(tree + "/saved_model.pb"));
  // Only the targets and the temporaries that must stay are left.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.dir())) entries += e.path().empty() ? 0 : 1;
  EXPECT_EQ(entries, 5u);
}

TEST(KerasStaleTemporaries, OwnProcessTemporariesAreLeftAlone) {
  ScratchDir dir;
  const std::string target = dir.path("w.h5");
  const std::string mine = temp_sibling(target);
  EXPECT_EQ(mine.rfind(target + ".keel-tmp-" + std::to_string(::getpid()) + "-", 0), 0u);
  touch(mine);
  EXPECT_TRUE(remove_stale_temporaries(target).empty());
  EXPECT_TRUE(fs::exists(mine));
}

}  // namespace
}  // namespace keel::keras
