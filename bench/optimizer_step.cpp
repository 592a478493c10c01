// Optimizer steps on the hot path of training: apply_gradients for each Keras optimizer over the
// variables of the mlp128 workload (784x128, 128, 128x10, 10) and over one 4M-element variable.
//
//   keel-bench-optimizer_step [THREADS...]   // prints: optimizer=Adam vars=mlp128 threads=1 us_per_step=... ns_per_element=...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/generator.h"
#include "keel/graph/threads.h"
#include "keel/keras/optimizers.h"

namespace {

using Clock = std::chrono::steady_clock;

void run(const std::string& label, const std::vector<keel::Shape>& shapes, int threads) {
  keel::set_num_threads(threads);
  keel::Generator gen(1);
  std::vector<std::pair<std::string, std::shared_ptr<keel::keras::Optimizer>>> opts = {
      {"SGD", std::make_shared<keel::keras::SGD>()},
      {"SGD(momentum)", std::make_shared<keel::keras::SGD>(keel::keras::SGDOptions().momentum(0.9))},
      {"Adam", std::make_shared<keel::keras::Adam>()},
      {"RMSprop", std::make_shared<keel::keras::RMSprop>()},
      {"Adagrad", std::make_shared<keel::keras::Adagrad>()}};
  for (auto& [name, opt] : opts) {
    std::vector<keel::Variable> vars;
    std::vector<keel::Tensor> grads;
    int64_t elements = 0;
    for (size_t i = 0; i < shapes.size(); ++i) {
      vars.emplace_back("v" + std::to_string(i), keel::Tensor::normal(shapes[i], gen));
      grads.push_back(keel::Tensor::normal(shapes[i], gen));
      elements += grads.back().numel();
    }
    opt->apply_gradients(grads, vars);  // creates the slots
    const int steps = elements > 1000000 ? 50 : 2000;
    const auto t0 = Clock::now();
    for (int s = 0; s < steps; ++s) opt->apply_gradients(grads, vars);
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("optimizer=%s vars=%s threads=%d us_per_step=%.2f ns_per_element=%.3f\n", name.c_str(), label.c_str(),
                threads, sec / steps * 1e6, sec / steps / static_cast<double>(elements) * 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1, 2};
  for (int t : threads) {
    run("mlp128", {{784, 128}, {128}, {128, 10}, {10}}, t);
    run("4M", {{4 * 1024 * 1024}}, t);
  }
  return 0;
}
