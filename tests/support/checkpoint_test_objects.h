// Small Trackables for checkpoint tests: a dense layer (optionally built lazily), an optimizer-like
// object with m/v slots, a Sequential-like container, and a temporary directory.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "keel/checkpoint/trackable.h"
#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"

namespace keel::testing {

struct TestDense : Trackable {
  int64_t in = 0, out = 0;
  std::string name;
  Variable kernel, bias;
  TestDense(std::string layer_name, int64_t in_dim, int64_t out_dim, bool build_now = true)
      : in(in_dim), out(out_dim), name(std::move(layer_name)) {
    if (build_now) build();
  }
  // Creates and tracks the variables (a Keras layer does this on its first call).
  void build(uint64_t seed = 1) {
    Generator g(seed);
    kernel = Variable(name + "/kernel", Tensor::uniform({in, out}, g, -1, 1));
    bias = Variable(name + "/bias", Tensor::uniform({out}, g, -1, 1));
    track_variable("kernel", kernel);
    track_variable("bias", bias);
  }
  bool built() const { return kernel.defined(); }
};

struct TestOptimizer : Trackable {
  Variable iter{"iter", Tensor::from_vector<int64_t>({0}, Shape{}), false};
  Variable learning_rate{"learning_rate", Tensor::scalar(0.001), false};
  std::vector<SlotVariable> slots;
  std::vector<std::string> slot_names{"m", "v"};
  TestOptimizer() {
    track_variable("iter", iter);
    track_variable("learning_rate", learning_rate);
  }
  void build(const std::vector<Variable>& vars) {
    for (const auto& s : slot_names) {
      for (const auto& v : vars) add_slot(v, s);
    }
  }
  Variable add_slot(const Variable& v, const std::string& s) {
    Variable slot("Adam/" + s + "/" + v.name(), Tensor::zeros(v.shape(), v.dtype()), false);
    slots.push_back(SlotVariable{v, s, slot});
    return slot;
  }
  Variable slot(const Variable& v, const std::string& s) const {
    for (const auto& x : slots) {
      if (x.original.is(v) && x.slot_name == s) return x.slot;
    }
    return Variable();
  }
  std::vector<SlotVariable> slot_variables() const override { return slots; }
  Variable create_slot_for_restore(const Variable& original, const std::string& s) override {
    for (const auto& n : slot_names) {
      if (n == s) return add_slot(original, s);
    }
    return Variable();
  }
};

// Sequential-like: layers named as Keras names them ("layer_with_weights-N" and "layer-N").
struct TestSequential : Trackable {
  std::vector<std::shared_ptr<TestDense>> layers;
  std::shared_ptr<TestOptimizer> optimizer;
  void add(std::shared_ptr<TestDense> l) {
    track("layer_with_weights-" + std::to_string(layers.size()), l);
    track("layer-" + std::to_string(layers.size()), l);
    layers.push_back(std::move(l));
  }
  void set_optimizer(std::shared_ptr<TestOptimizer> o) {
    optimizer = o;
    track("optimizer", o);
  }
  std::vector<Variable> trainable_variables() const {
    std::vector<Variable> out;
    for (const auto& l : layers) {
      out.push_back(l->kernel);
      out.push_back(l->bias);
    }
    return out;
  }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keel_ckpt_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
    if (path_.empty()) std::abort();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string fixture(const std::string& rel) { return std::string(KEEL_SHARED_DIR) + "/fixtures/" + rel; }

}  // namespace keel::testing
