// What the "Save and load models" tutorial programs (examples/tutorial_*.cpp) share: their command
// line, their work directory, the tutorial's data preparation and its create_model().
//
//   TutorialArgs args = parse_tutorial_args(argc, argv, "keel_tutorial_save_weights", /*epochs=*/5);
//   enter_work_dir(args, {"checkpoints"});       // cd into it; stale outputs of an earlier run removed
//   TutorialData d = load_tutorial_data(args.samples);   // the first 1,000 images, /255, flattened
//   auto model = create_model();                 // compiled, as the tutorial's create_model()
//   print_accuracy("Restored", evaluate_accuracy(*model, d));   // "Restored model, accuracy: 78.00%"
//
// Command line of every tutorial program: [WORKDIR] [--epochs N] [--samples N] [--seed N]. WORKDIR
// (default ./<default_dir>) is created when missing; the program changes into it, so that the paths it
// prints are the tutorial's ("training_1/cp.ckpt"). Nothing in it is removed except the outputs the
// program itself writes. Bad arguments print the usage and exit 2.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/shape_ops.h"

namespace tutorial {

using namespace keel;
namespace layers = keel::keras::layers;

struct TutorialArgs {
  std::string work_dir;
  int epochs = 0;
  int64_t samples = 1000;  // train and test images used (the tutorial: 1,000 of each)
  uint64_t seed = 0;
};

inline TutorialArgs parse_tutorial_args(int argc, char** argv, const std::string& default_dir, int default_epochs,
                                        int64_t default_samples = 1000) {
  TutorialArgs a;
  a.work_dir = default_dir;
  a.epochs = default_epochs;
  a.samples = default_samples;
  auto usage = [&]() {
    std::fprintf(stderr, "usage: %s [WORKDIR] [--epochs N] [--samples N] [--seed N]   (WORKDIR default ./%s)\n",
                 argv[0], default_dir.c_str());
    std::exit(2);
  };
  auto number = [&](int& i) -> long long {
    if (i + 1 >= argc) usage();
    char* end = nullptr;
    const long long v = std::strtoll(argv[++i], &end, 10);
    if (*end != '\0' || v < 0) usage();
    return v;
  };
  bool have_dir = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--epochs")) {
      a.epochs = static_cast<int>(number(i));
    } else if (!std::strcmp(argv[i], "--samples")) {
      a.samples = number(i);
    } else if (!std::strcmp(argv[i], "--seed")) {
      a.seed = static_cast<uint64_t>(number(i));
    } else if (argv[i][0] == '-' || have_dir) {
      usage();
    } else {
      a.work_dir = argv[i];
      have_dir = true;
    }
  }
  if (a.epochs < 1 || a.samples < 1) usage();
  return a;
}

// Creates args.work_dir if needed, changes into it and removes `outputs` (paths relative to it) left
// by an earlier run, so that latest_checkpoint and directory listings show this run only.
inline void enter_work_dir(const TutorialArgs& args, const std::vector<std::string>& outputs) {
  namespace fs = std::filesystem;
  fs::create_directories(args.work_dir);
  fs::current_path(args.work_dir);
  for (const auto& p : outputs) fs::remove_all(p);
}

struct TutorialData {
  Tensor train_images, train_labels, test_images, test_labels;
};

// The tutorial's preparation: the first `n` train and test images, flattened to 784 and scaled to [0, 1].
inline TutorialData load_tutorial_data(int64_t n) {
  auto d = datasets::fashion_mnist::load_data();
  auto prepare = [n](const Tensor& images) {
    return ops::div(ops::reshape(ops::slice(images, 0, 0, n).to(DType::f32), {-1, 28 * 28}), 255.0);
  };
  return {prepare(d.x_train), ops::slice(d.y_train, 0, 0, n), prepare(d.x_test), ops::slice(d.y_test, 0, 0, n)};
}

// The tutorial's create_model(): a simple sequential model, compiled.
inline std::shared_ptr<keras::Sequential> create_model() {
  auto model = std::make_shared<keras::Sequential>(std::vector<keras::LayerArg>{
      layers::Dense(layers::DenseOptions(512).activation("relu").input_shape({784})),
      layers::Dropout(0.2),
      layers::Dense(10, "softmax"),
  });
  model->compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics(
      {"accuracy"}));
  return model;
}

// model.evaluate(test_images, test_labels, verbose=2): prints Keras's one line, returns the logs.
inline keras::Logs evaluate_test(keras::Model& model, const TutorialData& d, int verbose = 2) {
  return model.evaluate(d.test_images, d.test_labels, keras::EvaluateOptions().verbose(verbose));
}

// print("Restored model, accuracy: {:5.2f}%".format(100 * acc))
inline void print_accuracy(const char* which, double acc) {
  std::printf("%s model, accuracy: %5.2f%%\n", which, 100 * acc);
  std::fflush(stdout);
}

// os.listdir(dir), sorted, printed as Python prints a list: ['checkpoint', 'cp.ckpt.index'].
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string line = "[";
  for (size_t i = 0; i < names.size(); ++i) line += (i ? ", '" : "'") + names[i] + "'";
  std::printf("%s]\n", line.c_str());
  std::fflush(stdout);
  return names;
}

// Exits with a message when `ok` is false (the programs' checks).
inline void check(bool ok, const std::string& what) {
  if (ok) return;
  std::printf("FAILED: %s\n", what.c_str());
  std::fflush(stdout);
  std::exit(1);
}

}  // namespace tutorial
