// A Sequential without input_shape is built by its first batch and trains on it, as tf.keras does:
// fit and train_on_batch create the weights, then the optimizer's slots, and a checkpoint of such a
// model resumes exactly.
#include <gtest/gtest.h>

#include <filesystem>

#include "keel/keras/layers/layers.h"
#include "keel/keras/optimizers.h"

using namespace keel;
using namespace keel::keras;

namespace {

Tensor features(int64_t n, uint64_t seed) {
  Generator g(seed);
  return Tensor::normal({n, 4}, g);
}

Tensor classes(int64_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& c : v) c = static_cast<int64_t>(g.next_below(3));
  return Tensor::from_vector<int64_t>(v, {n});
}

std::shared_ptr<Sequential> lazy_mlp() {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(8).activation("relu").kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(1))),
      layers::Dense(layers::DenseOptions(3).activation("softmax").kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(2)))});
  m->compile(CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  return m;
}

bool same_values(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape() != b[i].shape()) return false;
    for (int64_t k = 0; k < a[i].numel(); ++k)
      if (a[i].data<float>()[k] != b[i].data<float>()[k]) return false;
  }
  return true;
}

}  // namespace

TEST(LazySequentialTraining, FitBuildsOnTheFirstBatchAndUpdatesEveryWeight) {
  auto m = lazy_mlp();
  ASSERT_FALSE(m->built());
  auto history = m->fit(features(16, 5), classes(16, 6), FitOptions().batch_size(4).epochs(2).verbose(0).seed(1));
  ASSERT_TRUE(m->built());
  ASSERT_EQ(m->trainable_weights().size(), 4u);
  // Adam ran 8 steps on every variable: each has its m and v slots, and the step counter says 8.
  EXPECT_EQ(m->optimizer()->iterations_value(), 8);
  for (const Variable& v : m->trainable_weights()) {
    EXPECT_TRUE(m->optimizer()->get_slot(v, "m").defined()) << v.name();
    EXPECT_TRUE(m->optimizer()->get_slot(v, "v").defined()) << v.name();
  }
  EXPECT_EQ(history->at("loss").size(), 2u);
}

TEST(LazySequentialTraining, TrainOnBatchBuildsAndStepsLikeAnEagerlyBuiltModel) {
  const Tensor x = features(16, 5), y = classes(16, 6);
  auto lazy = lazy_mlp();
  auto built = lazy_mlp();
  built->build(Shape{-1, 4});  // seeded initializers: both start from the same weights
  const Logs a = lazy->train_on_batch(x, y);
  const Logs b = built->train_on_batch(x, y);
  EXPECT_EQ(a.get("loss"), b.get("loss"));
  EXPECT_TRUE(same_values(lazy->get_weights(), built->get_weights()));
  EXPECT_EQ(lazy->optimizer()->iterations_value(), 1);
}

TEST(LazySequentialTraining, EmbeddingAndLstmTrain) {
  Sequential s({layers::Embedding(10, 4), layers::LSTM(3), layers::Dense(1)});
  s.compile(CompileOptions().optimizer("adam").loss("mse"));
  const Tensor ids = Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  s.fit(ids, Tensor::ones({2, 1}), FitOptions().verbose(0).epochs(3));
  EXPECT_EQ(s.trainable_weights().size(), 6u);  // embeddings, LSTM kernel/recurrent/bias, Dense kernel/bias
  EXPECT_EQ(s.optimizer()->iterations_value(), 3);
  for (const Variable& v : s.trainable_weights()) EXPECT_TRUE(s.optimizer()->get_slot(v, "m").defined()) << v.name();
}

TEST(LazySequentialTraining, CheckpointOfALazyModelResumesExactly) {
  const Tensor x = features(16, 5), y = classes(16, 6);
  const auto dir = std::filesystem::temp_directory_path() / "keel_lazy_resume_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string prefix = (dir / "cp-0001.ckpt").string();

  auto straight = lazy_mlp();
  straight->train_on_batch(x, y);
  straight->save_weights(prefix);
  straight->train_on_batch(x, y);

  auto resumed = lazy_mlp();
  resumed->build(Shape{-1, 4});
  resumed->load_weights(prefix);
  resumed->train_on_batch(x, y);
  EXPECT_EQ(resumed->optimizer()->iterations_value(), 2);
  EXPECT_TRUE(same_values(resumed->get_weights(), straight->get_weights()));
  std::filesystem::remove_all(dir);
}
