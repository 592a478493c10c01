// Crash safety: a real child process saves with a CheckpointManager while it is SIGKILLed at random
// moments and at every stage of a save. After each kill the state file parses and the latest
// checkpoint (and every listed one still on disk) restores completely and consistently.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/manager.h"

namespace keel {
namespace {

using testing::TempDir;

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn(const std::string& dir, long saves, const std::string& crash_at) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  const std::string n = std::to_string(saves);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    if (!crash_at.empty()) ::setenv("KEEL_CRASH_AT", crash_at.c_str(), 1);
    ::execl(KEEL_CRASH_CHILD, KEEL_CRASH_CHILD, dir.c_str(), n.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// Waits for the child's ready byte (it has restored and verified the latest checkpoint).
bool wait_ready(const Child& c) {
  pollfd p{c.out, POLLIN, 0};
  if (::poll(&p, 1, 60000) != 1) return false;
  char b;
  return ::read(c.out, &b, 1) == 1 && b == 'r';
}

int reap(Child& c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  ::close(c.out);
  return status;
}

// The state file parses; the latest checkpoint and every listed one on disk restore consistently.
void verify(const std::string& dir, int64_t& last_step) {
  std::optional<std::string> latest;
  ASSERT_NO_THROW(latest = latest_checkpoint(dir));
  if (!latest) {
    ASSERT_EQ(last_step, 0) << "the state file lost every checkpoint";
    return;
  }
  auto state = read_checkpoint_state(dir);
  for (const auto& rel : state->all_model_checkpoint_paths) {
    const std::string prefix = resolve_checkpoint_path(dir, rel);
    if (!checkpoint_exists(prefix)) continue;  // pruned after the state was written: tolerated
    Variable w("w", Tensor::zeros({4096}), false);
    Variable step("step", Tensor::from_vector<int64_t>({-1}, Shape{}), false);
    Checkpoint ckpt({{"step", step}, {"w", w}});
    ASSERT_NO_THROW(ckpt.restore(prefix).assert_consumed()) << prefix;
    const int64_t s = step.value().item<int64_t>();
    EXPECT_TRUE(w.value().equal(Tensor::full({4096}, static_cast<double>(s)))) << prefix;
    EXPECT_EQ(ckpt.save_counter().value().item<int64_t>(), s) << prefix;
    if (prefix == *latest) {
      EXPECT_GE(s, last_step) << "the latest checkpoint went backwards";
      last_step = s;
    }
  }
}

// Runs the child for `saves` saves without killing it; returns the seconds the saves took.
double clean_run(const std::string& dir, long saves) {
  Child c = spawn(dir, saves, "");
  if (!wait_ready(c)) return -1;
  const auto t0 = std::chrono::steady_clock::now();
  const int status = reap(c);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(CheckpointCrash, RandomKillsDuringSaves) {
  TempDir dir;
  int64_t last_step = 0;
  // Kills land anywhere in the first four saves after the child is ready (fsync makes a save take
  // from microseconds on tmpfs to tens of milliseconds on a disk).
  const double seconds = clean_run(dir.path(), 4);
  ASSERT_GT(seconds, 0);
  verify(dir.path(), last_step);
  ASSERT_EQ(last_step, 4);
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> delay_us(0, std::max(1, static_cast<int>(seconds * 1e6)));
  for (int round = 0; round < 30; ++round) {
    Child c = spawn(dir.path(), 1000000, "");
    ASSERT_TRUE(wait_ready(c)) << "round " << round;
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(c.pid, SIGKILL);
    const int status = reap(c);
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << " exit " << WEXITSTATUS(status);
    verify(dir.path(), last_step);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // A clean run after all the kills continues from the latest checkpoint.
  const int64_t before = last_step;
  ASSERT_GT(clean_run(dir.path(), 3), 0);
  verify(dir.path(), last_step);
  EXPECT_EQ(last_step, before + 3);
}

TEST(CheckpointCrash, KillAtEveryStageOfASave) {
  TempDir dir;
  int64_t last_step = 0;
  const char* stages[] = {"bundle_written", "state_temp_written", "state_renamed", "deleting", "deleted", "saved"};
  for (const char* stage : stages) {
    for (int k : {1, 2, 5}) {
      const std::string at = std::string(stage) + ":" + std::to_string(k);
      Child c = spawn(dir.path(), 8, at);
      ASSERT_TRUE(wait_ready(c)) << at;
      const int status = reap(c);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << at << " status " << status;
      verify(dir.path(), last_step);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(last_step, 0);
}

}  // namespace
}  // namespace keel
