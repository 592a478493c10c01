// Exact resumption, proven with real processes: keel_resume_child trains 3 epochs of a Dropout + Adam
// model on a Fashion-MNIST subset with BackupAndRestore(save_freq=5 batches). It is SIGKILLed at
// random batches (several seeds), during saves, and more than once per run, then rerun until it
// completes; its final model (weights, optimizer slots and iterations, metric totals, dropout
// generators), History, EarlyStopping and ModelCheckpoint state (best, files kept) must equal an
// uninterrupted run's bit for bit.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/bundle.h"

using namespace keel;
using keel::testing::TempDir;

namespace {

struct RunResult {
  int status = 0;
  std::string out;  // the child's stdout
  bool killed() const { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
  bool done() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

// Every run writes ModelCheckpoint's files into the same `cp_dir`, so that the file list in its state
// is the same in every run.
RunResult run_child(const std::string& backup_dir, const std::string& out_prefix, const std::string& cp_dir,
                    const std::vector<std::pair<std::string, std::string>>& env) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execl(KEEL_RESUME_CHILD, KEEL_RESUME_CHILD, backup_dir.c_str(), out_prefix.c_str(), cp_dir.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  RunResult r;
  char buf[256];
  ssize_t got;
  while ((got = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(got));
  ::close(fds[0]);
  ::waitpid(pid, &r.status, 0);
  return r;
}

// Every key of two bundles, byte for byte.
void expect_same_bundles(const std::string& want, const std::string& got, const std::string& label) {
  BundleReader a(want), b(got);
  std::vector<std::string> ka, kb;
  for (const auto& [k, e] : a.entries()) ka.push_back(k);
  for (const auto& [k, e] : b.entries()) kb.push_back(k);
  ASSERT_EQ(ka, kb) << label;
  size_t compared = 0;
  for (const auto& k : ka) {
    const Tensor ta = a.read(k), tb = b.read(k);
    ASSERT_EQ(ta.dtype(), tb.dtype()) << label << " " << k;
    ASSERT_EQ(ta.shape(), tb.shape()) << label << " " << k;
    if (ta.dtype() == DType::string) {
      for (int64_t i = 0; i < ta.numel(); ++i) EXPECT_EQ(ta.str(i), tb.str(i)) << label << " " << k;
    } else {
      const size_t bytes = static_cast<size_t>(ta.numel()) * dtype_size(ta.dtype());
      EXPECT_EQ(std::memcmp(ta.raw_data(), tb.raw_data(), bytes), 0) << label << " " << k;
    }
    ++compared;
  }
  EXPECT_GT(compared, 10u) << label;
}

bool has_key_containing(const std::string& prefix, const std::string& part) {
  BundleReader r(prefix);
  for (const auto& [k, e] : r.entries())
    if (k.find(part) != std::string::npos) return true;
  return false;
}

constexpr int kSteps = 39;  // 410 training samples / 32 = 13 batches, 3 epochs

}  // namespace

TEST(SigkillResume, FinalStateEqualsUninterruptedRunBitForBit) {
  TempDir dir;
  const std::string reference = dir / "reference";
  {
    const RunResult r = run_child(dir / "backup_ref", reference, dir / "cp", {{"KEEL_DEFAULT_SEED", "11"}});
    ASSERT_TRUE(r.done()) << "status " << r.status << " out: " << r.out;
    EXPECT_EQ(r.out, "done\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "backup_ref")) << "delete_checkpoint removes the backup";
  }
  // What is compared is what the issue names.
  for (const char* part : {"optimizer/iter", ".OPTIMIZER_SLOT", "keras_api/metrics", "_random_generator",
                           "history/", "early_stopping/", "model_checkpoint/"})
    EXPECT_TRUE(has_key_containing(reference, part)) << part;

  // Each scenario: the kills of successive runs (env of each killed run), then a run to completion.
  using Env = std::vector<std::pair<std::string, std::string>>;
  std::vector<std::pair<std::string, std::vector<Env>>> scenarios;
  std::mt19937 rng(20261130);
  for (int s = 0; s < 3; ++s) {
    const int k = std::uniform_int_distribution<int>(6, kSteps - 1)(rng);
    scenarios.push_back({"kill at batch " + std::to_string(k), {{{"KEEL_KILL_AT_STEP", std::to_string(k)}}}});
  }
  const int a = std::uniform_int_distribution<int>(6, 18)(rng), b = std::uniform_int_distribution<int>(21, 37)(rng);
  scenarios.push_back({"killed twice, at batches " + std::to_string(a) + " and " + std::to_string(b),
                       {{{"KEEL_KILL_AT_STEP", std::to_string(a)}}, {{"KEEL_KILL_AT_STEP", std::to_string(b)}}}});
  // Inside a save: the new bundle is durable but the state file still names the previous backup.
  scenarios.push_back({"kill inside the 3rd save", {{{"KEEL_KILL_IN_SAVE", "bundle_written:3"}}}});
  // Inside a save, while the previous backup is being deleted (max_to_keep 1).
  scenarios.push_back({"kill while pruning in the 5th save", {{{"KEEL_KILL_IN_SAVE", "deleting:4"}}}});
  // At the last batch of an epoch: resumes into that epoch's validation and on_epoch_end.
  scenarios.push_back({"kill after the backup at the end of epoch 0",
                       {{{"KEEL_SAVE_FREQ", "13"}, {"KEEL_KILL_AT_STEP", "14"}}}});

  int scenario_index = 0;
  for (const auto& [label, kills] : scenarios) {
    SCOPED_TRACE(label);
    const std::string backup = dir / ("backup_" + std::to_string(scenario_index));
    const std::string out = dir / ("final_" + std::to_string(scenario_index));
    ++scenario_index;
    int run = 0;
    std::string restored_lines;
    for (Env env : kills) {
      env.push_back({"KEEL_DEFAULT_SEED", std::to_string(11 + 100 * run++)});
      const RunResult r = run_child(backup, out, dir / "cp", env);
      ASSERT_TRUE(r.killed()) << "status " << r.status << " out: " << r.out;
      restored_lines += r.out;
    }
    Env last{{"KEEL_DEFAULT_SEED", std::to_string(11 + 100 * run)}};
    for (const auto& kv : kills.front())
      if (kv.first == "KEEL_SAVE_FREQ") last.push_back(kv);
    const RunResult r = run_child(backup, out, dir / "cp", last);
    ASSERT_TRUE(r.done()) << "status " << r.status << " out: " << r.out;
    EXPECT_EQ(r.out.rfind("restored ", 0), 0u) << "the final run resumed from a backup: " << r.out;
    if (label.find("end of epoch 0") != std::string::npos) {
      EXPECT_EQ(r.out, "restored 0 13\ndone\n");
    }
    EXPECT_FALSE(std::filesystem::exists(backup));
    expect_same_bundles(reference, out, label);
  }
}
