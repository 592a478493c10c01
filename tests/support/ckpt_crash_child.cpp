// Child process for the checkpoint crash test: restores the latest checkpoint in DIR (checking that
// it is consistent), writes one byte to stdout when ready, then saves N times with a
// CheckpointManager. KEEL_CRASH_AT=<stage>:<k> makes it SIGKILL itself at the k-th time the save
// reaches <stage> (stages of CheckpointManagerOptions::hook).
//
//   keel_ckpt_crash_child DIR N
// Exit codes: 0 done, 2 usage, 3 the restored checkpoint was inconsistent, 4 an error.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "keel/checkpoint/manager.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const std::string dir = argv[1];
  const long saves = std::strtol(argv[2], nullptr, 10);
  std::string crash_stage;
  long crash_count = 0;
  if (const char* at = std::getenv("KEEL_CRASH_AT")) {
    const char* colon = std::strchr(at, ':');
    if (!colon) return 2;
    crash_stage.assign(at, colon);
    crash_count = std::strtol(colon + 1, nullptr, 10);
  }
  try {
    keel::Variable w("w", keel::Tensor::zeros({4096}), false);
    keel::Variable step("step", keel::Tensor::from_vector<int64_t>({0}, keel::Shape{}), false);
    keel::Checkpoint ckpt({{"step", step}, {"w", w}});
    long seen = 0;
    auto hook = [&](const char* stage) {
      if (!crash_stage.empty() && crash_stage == stage && ++seen == crash_count) ::kill(::getpid(), SIGKILL);
    };
    keel::CheckpointManager mgr(ckpt, dir, keel::CheckpointManagerOptions().max_to_keep(3).hook(hook));
    if (mgr.restore_or_initialize()) {
      const int64_t s = step.value().item<int64_t>();
      const float* p = w.value().data<float>();
      for (int i = 0; i < 4096; ++i) {
        if (p[i] != static_cast<float>(s)) return 3;
      }
      if (ckpt.save_counter().value().item<int64_t>() != s) return 3;
    }
    if (::write(1, "r", 1) != 1) return 4;
    for (long i = 0; i < saves; ++i) {
      const int64_t s = step.value().item<int64_t>() + 1;
      step.assign(keel::Tensor::from_vector<int64_t>({s}, keel::Shape{}));
      w.value().detach().fill_(static_cast<double>(s));
      mgr.save();
    }
  } catch (const std::exception& e) {
    std::cerr << "keel_ckpt_crash_child: " << e.what() << "\n";
    return 4;
  }
  return 0;
}
