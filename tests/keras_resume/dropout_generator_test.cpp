// Dropout's generator is the checkpoint child "_random_generator": saved and restored exactly, kept
// on the layer's own generator when a temporary moves into a model, and optional when loading files
// that do not hold it.
#include <gtest/gtest.h>

#include "checkpoint_test_objects.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/generator_trackable.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/weights.h"
#include "keel/keras/sequential.h"

using namespace keel;
using namespace keel::keras;
using keel::testing::TempDir;

namespace {

std::shared_ptr<Sequential> small_model() {
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(DenseOptions(8).activation("relu").input_shape({4})), layers::Dropout(0.5), layers::Dense(3)});
  return m;
}

Layer& dropout_of(Sequential& m) { return *m.get_layer(1); }

Tensor ones_batch() { return Tensor::full({16, 4}, 1.0); }

}  // namespace

TEST(DropoutGenerator, TrackedAsRandomGeneratorOfTheLayerItself) {
  auto m = small_model();  // the Dropout is a temporary moved into the model
  Layer& d = dropout_of(*m);
  const auto children = d.trackable_children();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].name, "_random_generator");
  auto g = std::dynamic_pointer_cast<GeneratorTrackable>(children[0].object);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(&g->generator(), &d.generator());  // not the moved-from temporary's
  EXPECT_TRUE(d.weights().empty());            // not a weight
}

TEST(DropoutGenerator, CheckpointRestoresTheMasks) {
  TempDir dir;
  auto a = small_model();
  (*a)(ones_batch(), /*training=*/true);  // advance the generator
  const std::string prefix = Checkpoint({{"model", a}}).write(dir / "ckpt");
  const Tensor after_save = (*a)(ones_batch(), /*training=*/true);

  auto b = small_model();  // other seeds: another generator state
  EXPECT_FALSE(dropout_of(*b).generator().state() == dropout_of(*a).generator().state());
  Checkpoint({{"model", b}}).read(prefix).assert_consumed();
  const Tensor restored = (*b)(ones_batch(), /*training=*/true);
  EXPECT_TRUE(restored.equal(after_save));
  EXPECT_EQ(dropout_of(*b).generator().state(), dropout_of(*a).generator().state());
}

TEST(DropoutGenerator, WeightsWithoutGeneratorStateStillLoad) {
  TempDir dir;
  auto a = small_model();
  dropout_of(*a).untrack("_random_generator");  // as a file written by Keras or an older keel holds it
  save_weights(*a, dir / "w");
  auto b = small_model();
  const auto before = dropout_of(*b).generator().state();
  const LoadWeightsResult r = load_weights(*b, dir / "w");
  EXPECT_EQ(r.weights_loaded, 4u);
  EXPECT_EQ(dropout_of(*b).generator().state(), before);
  EXPECT_TRUE((*b)(ones_batch()).equal((*a)(ones_batch())));

  // Checkpoint's own assertions do not require it either.
  const std::string prefix = Checkpoint({{"model", a}}).write(dir / "ckpt");
  auto c = small_model();
  const auto c_before = dropout_of(*c).generator().state();
  EXPECT_NO_THROW(Checkpoint({{"model", c}}).read(prefix).assert_consumed());
  EXPECT_NO_THROW(Checkpoint({{"model", c}}).read(prefix).assert_existing_objects_matched());
  EXPECT_EQ(dropout_of(*c).generator().state(), c_before);
}

TEST(DropoutGenerator, H5WeightsIgnoreIt) {
  TempDir dir;
  auto a = small_model();
  save_weights(*a, dir / "w.h5");
  auto b = small_model();
  EXPECT_EQ(load_weights(*b, dir / "w.h5").weights_loaded, 4u);
  EXPECT_TRUE((*b)(ones_batch()).equal((*a)(ones_batch())));
}
