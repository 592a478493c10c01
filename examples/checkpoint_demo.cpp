// keel's main demo: train on Fashion-MNIST with ModelCheckpoint, get killed, resume from the newest
// checkpoint, as in the tf.keras "Save and load models" tutorial, but with the optimizer state kept:
//
//   model.fit(..., callbacks=[ModelCheckpoint("training/cp-{epoch:04d}.ckpt", save_weights_only=True,
//                                             verbose=1), CSVLogger("training/log.csv", append=True)])
//   ... the process is killed with SIGKILL halfway through epoch 2 ...
//   latest = tf.train.latest_checkpoint("training")         # training/cp-0001.ckpt
//   model = create_model(); model.evaluate(...)                # "Untrained model, accuracy: ..."
//   model.load_weights(latest); model.evaluate(...)            # "Restored model, accuracy: ..."
//   model.fit(..., initial_epoch=1, epochs=3)                  # continues: weights AND Adam's slots
//
// The training runs in a child process (this program with --train), so that the kill is a real
// SIGKILL of a real process, not a simulation. The parent checks that the restored model's accuracy
// is exactly the validation accuracy the killed run logged for the checkpointed epoch, and that the
// optimizer resumes at the right iteration.
//
// Usage: keel-example-checkpoint_demo [WORKDIR]   (default: ./training, removed first)
// Exit status 0 when everything held, 1 otherwise.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "keel/checkpoint/checkpoint_state.h"
#include "keel/graph/error.h"
#include "keel/keras/callbacks/csv_logger.h"
#include "keel/keras/callbacks/model_checkpoint.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/shape_ops.h"

extern char** environ;

using namespace keel;
namespace layers = keel::keras::layers;
namespace fs = std::filesystem;

namespace {

constexpr int kEpochs = 3;
constexpr int kKillEpoch = 1;         // 0-based: the second epoch
constexpr int64_t kKillBatch = 1000;  // of 1,875
constexpr uint64_t kSeed = 7;

struct Data {
  Tensor x_train, y_train, x_test, y_test;
};

Data load() {
  auto d = datasets::fashion_mnist::load_data();
  auto prepare = [](const Tensor& images) {
    return ops::div(ops::reshape(images.to(DType::f32), {-1, 28 * 28}), 255.0);
  };
  return {prepare(d.x_train), d.y_train, prepare(d.x_test), d.y_test};
}

// The tutorial's create_model().
std::shared_ptr<keras::Sequential> create_model() {
  auto model = std::make_shared<keras::Sequential>(std::vector<keras::LayerArg>{
      layers::Dense(layers::DenseOptions(512).activation("relu").input_shape({784})),
      layers::Dropout(0.2),
      layers::Dense(10),
  });
  model->compile(keras::CompileOptions()
                     .optimizer("adam")
                     .loss(std::make_shared<keras::SparseCategoricalCrossentropy>(
                         keras::LossOptions().from_logits(true)))
                     .metrics({"accuracy"}));
  return model;
}

keras::FitOptions fit_options(const Data& d, const std::string& dir) {
  return keras::FitOptions()
      .epochs(kEpochs)
      .seed(kSeed)
      .validation_data(d.x_test, d.y_test)
      .callback(std::make_shared<keras::ModelCheckpoint>(
          dir + "/cp-{epoch:04d}.ckpt", keras::ModelCheckpointOptions().save_weights_only(true).verbose(1)))
      .callback(std::make_shared<keras::CSVLogger>(dir + "/log.csv", ",", /*append=*/true));
}

// Kills its own process, like a power cut or an OOM kill, in the middle of an epoch.
struct KillSwitch : keras::Callback {
  int epoch = -1;
  void on_epoch_begin(int e, keras::Logs&) override { epoch = e; }
  void on_train_batch_end(int64_t batch, keras::Logs&) override {
    if (epoch == kKillEpoch && batch == kKillBatch) {
      std::printf("\n\n*** killing this process with SIGKILL at epoch %d, batch %lld ***\n", epoch + 1,
                  static_cast<long long>(batch));
      std::fflush(stdout);
      std::raise(SIGKILL);
    }
  }
};

int train_child(const std::string& dir) {
  keras::utils::set_random_seed(kSeed);
  const Data d = load();
  auto model = create_model();
  model->summary();
  model->fit(d.x_train, d.y_train, fit_options(d, dir).callback(std::make_shared<KillSwitch>()));
  std::printf("the training finished without being killed\n");
  return 0;
}

// val_accuracy of `epoch` (0-based) in the CSVLogger file.
double logged_val_accuracy(const std::string& csv, int epoch) {
  std::ifstream f(csv);
  KEEL_CHECK(f.good(), "cannot read ", csv);
  std::string line;
  std::getline(f, line);
  std::vector<std::string> header;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) header.push_back(line);
  while (std::getline(f, line)) {
    std::vector<std::string> row;
    for (std::stringstream ss(line); std::getline(ss, line, ',');) row.push_back(line);
    if (row.empty() || std::stoi(row[0]) != epoch) continue;
    for (size_t i = 0; i < header.size() && i < row.size(); ++i)
      if (header[i] == "val_accuracy") return std::stod(row[i]);
  }
  KEEL_FAIL(csv, ": no val_accuracy for epoch ", epoch);
}

int run(const std::string& self, const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("keel demo: Fashion-MNIST, ModelCheckpoint every epoch to %s/cp-{epoch:04d}.ckpt, a SIGKILL in "
              "epoch %d, then resume\n\n",
              dir.c_str(), kKillEpoch + 1);
  std::fflush(stdout);

  // 1. Train in a child process that gets killed partway.
  std::vector<std::string> args = {self, "--train", dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  KEEL_CHECK(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) == 0, "cannot start ", self);
  int status = 0;
  waitpid(pid, &status, 0);
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  std::printf("\n[parent] the training process %s\n", killed ? "was killed by SIGKILL" : "was NOT killed");
  std::printf("[parent] %s now holds:", dir.c_str());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) std::printf(" %s", n.c_str());
  std::printf("\n");

  // 2. latest_checkpoint, a fresh model, restore.
  const auto latest = latest_checkpoint(dir);
  KEEL_CHECK(latest.has_value(), "no checkpoint in ", dir);
  std::printf("[parent] latest_checkpoint(\"%s\") = %s\n\n", dir.c_str(), latest->c_str());

  keras::utils::set_random_seed(kSeed + 1);  // a different initialisation than the killed run's
  const Data d = load();
  auto model = create_model();
  const keras::EvaluateOptions quiet = keras::EvaluateOptions().verbose(2);
  const double untrained = model->evaluate(d.x_test, d.y_test, quiet).at("accuracy");
  std::printf("Untrained model, accuracy: %5.2f%%\n", 100 * untrained);

  model->load_weights(*latest);
  const double restored = model->evaluate(d.x_test, d.y_test, quiet).at("accuracy");
  std::printf("Restored model, accuracy: %5.2f%%\n", 100 * restored);
  const int64_t iterations = model->optimizer()->iterations_value();
  const int64_t steps_per_epoch = (d.x_train.size(0) + 31) / 32;
  const int done_epochs = static_cast<int>(iterations / steps_per_epoch);
  std::printf("Restored optimizer: Adam at iteration %lld (= %d epochs of %lld steps), slots m and v restored\n",
              static_cast<long long>(iterations), done_epochs, static_cast<long long>(steps_per_epoch));

  bool ok = killed;
  const double logged = logged_val_accuracy(dir + "/log.csv", done_epochs - 1);
  const bool same = logged == restored;
  std::printf("The killed run logged val_accuracy %.17g after epoch %d; restored %.17g: %s\n", logged, done_epochs,
              restored, same ? "identical" : "DIFFERENT");
  ok = ok && same && iterations % steps_per_epoch == 0 && done_epochs == kKillEpoch;

  // 3. Continue where it stopped.
  std::printf("\nResuming with fit(initial_epoch=%d, epochs=%d)\n", done_epochs, kEpochs);
  std::fflush(stdout);
  model->fit(d.x_train, d.y_train, fit_options(d, dir).initial_epoch(done_epochs));
  const double final_acc = model->evaluate(d.x_test, d.y_test, quiet).at("accuracy");
  std::printf("Final model, accuracy: %5.2f%%\n", 100 * final_acc);
  std::printf("latest_checkpoint(\"%s\") = %s\n", dir.c_str(), latest_checkpoint(dir).value_or("none").c_str());
  ok = ok && final_acc >= 0.85;
  std::printf("\n%s\n", ok ? "demo: OK" : "demo: FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 3 && std::strcmp(argv[1], "--train") == 0) return train_child(argv[2]);
    const std::string dir = argc >= 2 ? argv[1] : "training";
    return run(fs::canonical("/proc/self/exe").string(), dir);
  } catch (const Error& e) {
    std::fprintf(stderr, "checkpoint_demo: %s\n", e.what());
    return 1;
  }
}
