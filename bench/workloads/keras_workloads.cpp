// Workloads written as a Keras user writes them: keras::Sequential + compile + fit + evaluate, on the data
// of ../shared/peers/WORKLOADS.md (Fashion-MNIST pixels scaled to [0, 1]; one epoch of the 60,000 training
// images in a fresh random order, Adam(lr 1e-3); acc = accuracy on the 10,000 test images afterwards).
// Only fit() is timed, as the peer times only its training loop.
//
// Seeds: every workload starts from keras::utils::set_random_seed(S) and fit(seed=S), so its result does
// not depend on which workloads ran before it in the process. S is 0 unless KEEL_BENCH_SEED=S is set:
// one epoch's test accuracy moves by one to three points from seed to seed (in keel and in the peer), so
// comparing accuracies means looking at a few seeds (`for s in 0 1 2 3; do KEEL_BENCH_SEED=$s ...`).
//
// Each line also carries prims_after_step1: how many oneDNN primitives the full-size training steps after
// the first one created (a partial last batch has a new shape and builds its own once). It must be 0; the
// workload fails otherwise.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/error.h"
#include "keel/graph/generator.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/layers.h"
#include "keel/ops/dnnl.h"
#include "keel/ops/elementwise.h"
#include "workload.h"

namespace keel::bench {

namespace {

namespace layers = keras::layers;

struct Images {
  Tensor x_train, y_train, x_test, y_test;  // x: f32 [N,28,28] in [0, 1]; y: u8 class ids
};

const Images& fashion_mnist() {
  static const Images d = [] {
    auto raw = datasets::fashion_mnist::load_data();
    return Images{ops::div(raw.x_train.to(DType::f32), 255.0), raw.y_train, ops::div(raw.x_test.to(DType::f32), 255.0),
                  raw.y_test};
  }();
  return d;
}

// The seed of this run: KEEL_BENCH_SEED, or 0.
uint64_t bench_seed() {
  const char* s = std::getenv("KEEL_BENCH_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 0;
}

// Epochs to train: KEEL_BENCH_EPOCHS, or the workload's 1. More epochs give a profiler (perf record -D)
// a longer steady state; the line then reports the rate over all of them and the accuracy after the last.
int bench_epochs() {
  const char* s = std::getenv("KEEL_BENCH_EPOCHS");
  return s ? std::max(1, std::atoi(s)) : 1;
}

// Counts primitive creations between the end of the first training step and the end of the last
// full-size one.
class PrimitiveWatch : public keras::Callback {
 public:
  PrimitiveWatch(int64_t samples, int64_t batch_size) : last_full_(samples / batch_size - 1) {}
  void on_train_batch_end(int64_t step, keras::Logs&) override {
    if (step == 0) after_first_ = dnnl_glue::primitive_creations();
    if (step == last_full_) steady_ = dnnl_glue::primitive_creations() - after_first_;
  }
  int64_t created_after_first_step() const { return steady_; }

 private:
  int64_t last_full_, after_first_ = 0, steady_ = -1;
};

// Trains `model` (compiled here with Adam and `loss`, metric accuracy) for one epoch of x, y at
// `batch_size`, then prints the workload's line with the test accuracy when x_test is given.
void train_and_report(const std::string& name, int threads, keras::Sequential& model,
                      const std::shared_ptr<keras::Loss>& loss, const Tensor& x, const Tensor& y,
                      int64_t batch_size, const Tensor& x_test = Tensor(), const Tensor& y_test = Tensor()) {
  model.compile(keras::CompileOptions().optimizer("adam").loss(loss).metrics({"accuracy"}));
  auto watch = std::make_shared<PrimitiveWatch>(x.size(0), batch_size);
  const auto start = Clock::now();
  model.fit(x, y, keras::FitOptions().batch_size(batch_size).epochs(bench_epochs()).verbose(0).seed(bench_seed()).callback(watch));
  const double seconds = since(start);
  std::string acc;
  if (x_test.defined()) {
    const keras::Logs scores = model.evaluate(x_test, y_test, keras::EvaluateOptions().batch_size(1000).verbose(0));
    char buf[32];
    std::snprintf(buf, sizeof buf, " acc=%.4f", scores.at("accuracy"));
    acc = buf;
  }
  std::printf("peer=keel workload=%s threads=%d train_samples_per_s=%.0f%s prims_after_step1=%lld\n", name.c_str(),
              threads, static_cast<double>(x.size(0)) * bench_epochs() / seconds, acc.c_str(),
              static_cast<long long>(watch->created_after_first_step()));
  KEEL_CHECK(watch->created_after_first_step() == 0, name, ": ", watch->created_after_first_step(),
             " oneDNN primitives were created after the first training step");
}

std::shared_ptr<keras::Loss> sparse_cce(bool from_logits) {
  return std::make_shared<keras::SparseCategoricalCrossentropy>(keras::LossOptions().from_logits(from_logits));
}

// Flatten -> Dense(128, relu) -> Dropout(0.2) -> Dense(10) logits.
void mlp128(int threads, int64_t batch_size) {
  const Images& d = fashion_mnist();
  keras::utils::set_random_seed(bench_seed());
  keras::Sequential model({
      layers::Flatten(layers::FlattenOptions().input_shape({28, 28})),
      layers::Dense(128, "relu"),
      layers::Dropout(0.2),
      layers::Dense(10),
  });
  train_and_report("mlp128_bs" + std::to_string(batch_size), threads, model, sparse_cce(true), d.x_train, d.y_train,
                   batch_size, d.x_test, d.y_test);
}

// Flatten -> Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax).
void mlp512_bs32(int threads) {
  const Images& d = fashion_mnist();
  keras::utils::set_random_seed(bench_seed());
  keras::Sequential model({
      layers::Flatten(layers::FlattenOptions().input_shape({28, 28})),
      layers::Dense(512, "relu"),
      layers::Dropout(0.2),
      layers::Dense(10, "softmax"),
  });
  train_and_report("mlp512_bs32", threads, model, sparse_cce(false), d.x_train, d.y_train, 32, d.x_test, d.y_test);
}

// Conv2D(16, 3x3, relu) -> MaxPooling2D(4x4) -> BatchNormalization -> Flatten -> Dense(32, relu)
// -> Dropout(0.5) -> Dense(10, softmax) on 28x28x1.
// BatchNormalization takes the peer's BatchNorm2d hyperparameters (momentum 0.1 in PyTorch's convention,
// 0.9 in Keras's; epsilon 1e-5) so that both train the same model: with Keras's defaults (0.99, 1e-3) the
// moving statistics lag after the 235 steps of cnn_bs256 and test accuracy drops by about two points
// (keel seeds 0-3: 0.799-0.822 with Keras's defaults, 0.829-0.835 with the peer's).
void cnn(int threads, int64_t batch_size) {
  const Images& d = fashion_mnist();
  keras::utils::set_random_seed(bench_seed());
  keras::Sequential model({
      layers::Conv2D(layers::Conv2DOptions(16, 3).activation("relu").input_shape({28, 28, 1})),
      layers::MaxPooling2D(4),
      layers::BatchNormalization(layers::BatchNormalizationOptions().momentum(0.9).epsilon(1e-5)),
      layers::Flatten(),
      layers::Dense(32, "relu"),
      layers::Dropout(0.5),
      layers::Dense(10, "softmax"),
  });
  auto nhwc = [](const Tensor& x) { return x.view({x.size(0), 28, 28, 1}); };
  train_and_report("cnn_bs" + std::to_string(batch_size), threads, model, sparse_cce(false), nhwc(d.x_train),
                   d.y_train, batch_size, nhwc(d.x_test), d.y_test);
}

// Embedding(5000, 32) -> LSTM(100), last output -> Dense(1, sigmoid); binary cross-entropy; random token
// ids of length 200 and random 0/1 labels; 20 steps of batch 64 (one epoch of 1,280 samples), no warm-up.
void lstm_bs64(int threads) {
  const int64_t batch = 64, steps = 20, length = 200, vocab = 5000;
  keras::utils::set_random_seed(bench_seed());
  Generator gen(7);
  Tensor ids = Tensor::empty({batch * steps, length}, DType::i64), y = Tensor::empty({batch * steps, 1});
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = static_cast<int64_t>(gen.next_below(vocab));
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = static_cast<float>(gen.next_below(2));
  keras::Sequential model;
  model.add(keras::Input(keras::InputOptions({length}).dtype(DType::i64)));
  model.add(layers::Embedding(vocab, 32));
  model.add(layers::LSTM(100));
  model.add(layers::Dense(1, "sigmoid"));
  train_and_report("lstm_bs64", threads, model, std::make_shared<keras::BinaryCrossentropy>(), ids, y, batch);
}

}  // namespace

std::vector<Workload> keras_workloads() {
  return {
      {"mlp128_bs32", [](int t) { mlp128(t, 32); }},
      {"mlp128_bs256", [](int t) { mlp128(t, 256); }},
      {"mlp512_bs32", mlp512_bs32},
      {"cnn_bs32", [](int t) { cnn(t, 32); }},
      {"cnn_bs256", [](int t) { cnn(t, 256); }},
      {"lstm_bs64", lstm_bs64},
  };
}

}  // namespace keel::bench
