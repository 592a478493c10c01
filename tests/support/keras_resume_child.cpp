// Child process for the exact-resumption test (tests/keras_resume/sigkill_resume_test.cpp): trains a
// small Dropout + Adam model on 512 Fashion-MNIST images (batch 32, 3 epochs, validation_split 0.2,
// shuffle, EarlyStopping, ModelCheckpoint(save_best_only, every 6 batches, max_to_keep 2) writing into
// CP_DIR, BackupAndRestore every KEEL_SAVE_FREQ batches into BACKUP_DIR) on one thread, then writes the
// final model (weights, optimizer slots and iterations, metrics), History, EarlyStopping and
// ModelCheckpoint as a keel checkpoint at OUT_PREFIX.
//
//   keel_resume_child BACKUP_DIR OUT_PREFIX CP_DIR
//
// Environment:
//   KEEL_SAVE_FREQ=N          backup every N batches (default 5)
//   KEEL_KILL_AT_STEP=k       SIGKILL itself right after global batch k (1-based) has run
//   KEEL_KILL_IN_SAVE=s:k     SIGKILL itself the k-th time a backup save reaches stage s
//                             (CheckpointManagerOptions::hook stages: bundle_written, state_temp_written, ...)
//   KEEL_DEFAULT_SEED=x       manual_seed(x) before fit: the shuffle seed fit draws differs per run,
//                             so that only a restored seed reproduces the data order
// Prints "restored <epoch> <step>" when fit resumed from a backup, "done" at the end.
// Exit codes: 0 done, 2 usage, 4 an error.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "keel/checkpoint/checkpoint.h"
#include "keel/graph/threads.h"
#include "keel/keras/callbacks/backup_and_restore.h"
#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/callbacks/model_checkpoint.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/sequential.h"

using namespace keel;
using namespace keel::keras;

namespace {

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}

// SIGKILLs the process after global batch `at` (1-based), before the backup of that batch.
struct Killer : Callback {
  long at;
  explicit Killer(long k) : at(k) {}
  void on_train_batch_end(int64_t, Logs&) override {
    if (control()->state->global_step() == at) ::kill(::getpid(), SIGKILL);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const std::string backup_dir = argv[1], out = argv[2], cp_dir = argv[3];
  try {
    set_num_threads(1);
    manual_seed(static_cast<uint64_t>(env_long("KEEL_DEFAULT_SEED", 0)));
    const auto d = datasets::fashion_mnist::load_data();
    const int64_t n = 512;
    Tensor x = keras::detail::take_rows(d.x_train, 0, n).to(DType::f32).view({n, 784});
    float* p = x.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] /= 255.0f;
    const Tensor y = keras::detail::take_rows(d.y_train, 0, n);

    auto model = std::make_shared<Sequential>(std::vector<LayerArg>{
        layers::Dense(DenseOptions(32).activation("relu").input_shape({784})), layers::Dropout(0.3),
        layers::Dense(10, "softmax")});
    model->compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));

    auto early = std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_loss").patience(100));
    auto backup = std::make_shared<BackupAndRestore>(backup_dir, SaveFreq(env_long("KEEL_SAVE_FREQ", 5)));
    std::string crash_stage;
    long crash_count = 0, seen = 0;
    if (const char* at = std::getenv("KEEL_KILL_IN_SAVE")) {
      const char* colon = std::strchr(at, ':');
      if (!colon) return 2;
      crash_stage.assign(at, colon);
      crash_count = std::strtol(colon + 1, nullptr, 10);
    }
    backup->set_save_hook([&](const char* stage) {
      if (crash_stage == stage && ++seen == crash_count) ::kill(::getpid(), SIGKILL);
    });
    auto best = std::make_shared<ModelCheckpoint>(
        cp_dir + "/best-{epoch:02d}-{batch:02d}.weights.h5",
        ModelCheckpointOptions().monitor("loss").save_best_only(true).save_weights_only(true).save_freq(6).max_to_keep(2));
    std::vector<std::shared_ptr<Callback>> callbacks{early, best, backup};
    if (const long k = env_long("KEEL_KILL_AT_STEP", 0); k > 0) callbacks.push_back(std::make_shared<Killer>(k));

    struct Report : Callback {  // at the first epoch_begin, after every on_train_begin (the restore)
      const BackupAndRestore* b;
      bool printed = false;
      explicit Report(const BackupAndRestore* backup) : b(backup) {}
      void on_epoch_begin(int, Logs&) override {
        if (b->restored_from() && !printed)
          std::cout << "restored " << control()->state->epoch() << " " << control()->state->step() << std::endl;
        printed = true;
      }
    };
    callbacks.push_back(std::make_shared<Report>(backup.get()));

    auto history = model->fit(x, y, FitOptions().epochs(3).batch_size(32).validation_split(0.2).verbose(0)
                                        .callbacks(callbacks));
    Checkpoint({{"model", model}, {"history", history}, {"early_stopping", early}, {"model_checkpoint", best}})
        .write(out);
    std::cout << "done" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "keel_resume_child: " << e.what() << "\n";
    return 4;
  }
  return 0;
}
