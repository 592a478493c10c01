// Runs each program of the "Save and load models" tutorial flows (examples/tutorial_*.cpp) and the
// Embedding + LSTM example (examples/sequence_lstm.cpp) in a fresh temporary work directory, with fewer
// images or epochs than their defaults so that each takes seconds, and checks its exit status (each
// program checks its own results: restored accuracy equal to the trained one, files, iterations...) and
// the lines the tutorial shows.
//
// The programs exist only in builds with examples (KEEL_BUILD_EXAMPLES, not the sanitizer build);
// tests/CMakeLists.extra.cmake then defines KEEL_EXAMPLES_DIR, and without it this file has no tests.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>
#include <sys/wait.h>

#include "checkpoint_test_objects.h"

#ifdef KEEL_EXAMPLES_DIR

namespace {

struct ExampleRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// keel-example-<name> <temporary dir> <args>, its output captured.
ExampleRun run_example(const std::string& name, const std::string& args) {
  keel::testing::TempDir dir;
  const std::string cmd =
      "'" + std::string(KEEL_EXAMPLES_DIR) + "/keel-example-" + name + "' '" + dir.path() + "' " + args + " 2>&1";
  ExampleRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

bool has(const ExampleRun& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

size_t count(const ExampleRun& r, const std::string& text) {
  size_t n = 0;
  for (size_t at = r.out.find(text); at != std::string::npos; at = r.out.find(text, at + 1)) ++n;
  return n;
}

// The value printed as "<which> model, accuracy: 86.70%", or -1.
double printed_accuracy(const ExampleRun& r, const std::string& which) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex(which + " model, accuracy: +([0-9.]+)%"))) return -1;
  return std::stod(m[1]);
}

}  // namespace

TEST(TutorialExamples, CheckpointCallbackRestoresTheTrainedAccuracy) {
  const ExampleRun r = run_example("tutorial_checkpoint_callback", "--epochs 3 --samples 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "Total params: 407,050")) << r.out;
  EXPECT_TRUE(has(r, "7/7 [==============================]")) << r.out;  // Keras's progress line
  for (const char* epoch : {"Epoch 1: saving model to training_1/cp.ckpt", "Epoch 3: saving model to training_1/cp.ckpt"})
    EXPECT_TRUE(has(r, epoch)) << r.out;
  EXPECT_TRUE(has(r, "['checkpoint', 'cp.ckpt.data-00000-of-00001', 'cp.ckpt.index']")) << r.out;
  const double untrained = printed_accuracy(r, "Untrained"), restored = printed_accuracy(r, "Restored");
  EXPECT_GE(untrained, 0) << r.out;
  EXPECT_GT(restored, untrained) << r.out;
  EXPECT_EQ(restored, printed_accuracy(r, "Trained")) << r.out;
}

TEST(TutorialExamples, CheckpointEveryFiveEpochsThenLatest) {
  const ExampleRun r = run_example("tutorial_checkpoint_every_n", "--epochs 10 --samples 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "n_batches = 7, save_freq = 5 * n_batches = 35")) << r.out;
  for (const char* line : {"Epoch 5: saving model to training_2/cp-0005.ckpt",
                           "Epoch 10: saving model to training_2/cp-0010.ckpt",
                           "Epoch 10: saving model to training_2_period/cp-0010.ckpt",
                           "latest = 'training_2/cp-0010.ckpt'", "latest = 'training_2_period/cp-0010.ckpt'"})
    EXPECT_TRUE(has(r, line)) << line << "\n" << r.out;
  EXPECT_FALSE(has(r, "cp-0004.ckpt")) << r.out;
  EXPECT_TRUE(has(r, "['checkpoint', 'cp-0000.ckpt.data-00000-of-00001', 'cp-0000.ckpt.index', "
                     "'cp-0005.ckpt.data-00000-of-00001', 'cp-0005.ckpt.index', "
                     "'cp-0010.ckpt.data-00000-of-00001', 'cp-0010.ckpt.index']"))
      << r.out;
  EXPECT_EQ(printed_accuracy(r, "Restored"), printed_accuracy(r, "Trained")) << r.out;
}

TEST(TutorialExamples, SaveWeightsInBothFormats) {
  const ExampleRun r = run_example("tutorial_save_weights", "--epochs 2 --samples 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "['checkpoint', 'my_checkpoint.data-00000-of-00001', 'my_checkpoint.h5', "
                     "'my_checkpoint.index']"))
      << r.out;
  EXPECT_TRUE(has(r, "restored 4 weights from ./checkpoints/my_checkpoint (checkpoint)")) << r.out;
  EXPECT_TRUE(has(r, "restored 4 weights from ./checkpoints/my_checkpoint.h5 (HDF5)")) << r.out;
  const double trained = printed_accuracy(r, "Trained");
  EXPECT_GT(trained, 10) << r.out;
  // Both "Restored" lines print the trained accuracy.
  char line[64];
  std::snprintf(line, sizeof line, "Restored model, accuracy: %5.2f%%", trained);
  EXPECT_EQ(count(r, line), 2u) << line << "\n" << r.out;
}

TEST(TutorialExamples, SaveModelThenLoadModelContinuesTraining) {
  const ExampleRun r = run_example("tutorial_save_model", "--epochs 2 --samples 200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "['assets', 'saved_model.pb', 'variables']")) << r.out;
  EXPECT_TRUE(has(r, "(200, 10)")) << r.out;  // new_model.predict(test_images).shape
  // 2 epochs of 7 batches saved; the reloaded optimizers continue from there to 4 epochs.
  EXPECT_TRUE(has(r, "model.optimizer.iterations = 14\n")) << r.out;
  EXPECT_EQ(count(r, "new_model.optimizer.iterations = 14\n"), 2u) << r.out;  // the directory and the .h5
  EXPECT_EQ(count(r, "new_model.optimizer.iterations = 28\n"), 2u) << r.out;
  EXPECT_EQ(count(r, "Adam slots m and v of all 4 weights equal the saved model's bit for bit"), 2u) << r.out;
  EXPECT_TRUE(has(r, "Model: \"sequential\"")) << r.out;  // new_model.summary()
  EXPECT_TRUE(has(r, "model.optimizer.iterations = 0\n")) << r.out;  // weights only: a fresh Adam
}

TEST(TutorialExamples, SequenceLstmLearnsTheOrderAndResumesAfterLoadModel) {
  const ExampleRun r = run_example("sequence_lstm", "--epochs 2 --samples 640");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(has(r, "lstm (LSTM)")) << r.out;
  EXPECT_TRUE(has(r, "['assets', 'saved_model.pb', 'variables']")) << r.out;
  EXPECT_EQ(printed_accuracy(r, "Restored"), printed_accuracy(r, "Trained")) << r.out;
  EXPECT_GE(printed_accuracy(r, "Further trained"), 90.0) << r.out;
}

#endif  // KEEL_EXAMPLES_DIR
