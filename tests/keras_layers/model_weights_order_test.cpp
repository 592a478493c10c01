// Model.weights / get_weights / set_weights in tf.keras's order: layer by layer, each layer's
// trainable then non-trainable weights; trainable_weights and non_trainable_weights keep theirs.
#include <gtest/gtest.h>

#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;

namespace {

std::vector<std::string> names(const std::vector<Variable>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs) out.push_back(v.name());
  return out;
}

const std::vector<std::string> kKerasOrder{"d0/kernel", "d0/bias", "bn/gamma", "bn/beta", "bn/moving_mean",
                                           "bn/moving_variance", "d1/kernel", "d1/bias"};

}  // namespace

TEST(ModelWeightsOrder, FunctionalDenseBatchNormDense) {
  auto in = Input({3});
  auto h = layers::Dense(layers::DenseOptions(4).name("d0"))(in);
  h = layers::BatchNormalization(layers::BatchNormalizationOptions().name("bn"))(h);
  auto out = layers::Dense(layers::DenseOptions(2).name("d1"))(h);
  Model m(in, out);
  EXPECT_EQ(names(m.weights()), kKerasOrder);
  EXPECT_EQ(names(m.trainable_weights()),
            (std::vector<std::string>{"d0/kernel", "d0/bias", "bn/gamma", "bn/beta", "d1/kernel", "d1/bias"}));
  EXPECT_EQ(names(m.non_trainable_weights()), (std::vector<std::string>{"bn/moving_mean", "bn/moving_variance"}));

  // get_weights follows weights(): index 4 is the moving mean [4], index 6 the second kernel [4,2].
  const auto values = m.get_weights();
  ASSERT_EQ(values.size(), 8u);
  EXPECT_EQ(values[4].shape(), (Shape{4}));
  EXPECT_EQ(values[6].shape(), (Shape{4, 2}));
  // set_weights takes the same order.
  std::vector<Tensor> changed = values;
  changed[4] = Tensor::full({4}, 0.5);
  changed[6] = Tensor::full({4, 2}, 2.0);
  m.set_weights(changed);
  auto bn = std::dynamic_pointer_cast<layers::BatchNormalization>(m.get_layer("bn"));
  EXPECT_EQ(bn->moving_mean().value().data<float>()[0], 0.5f);
  EXPECT_EQ(m.get_layer("d1")->weights()[0].value().data<float>()[0], 2.0f);
}

TEST(ModelWeightsOrder, SequentialAndNestedModel) {
  Sequential s({layers::Dense(layers::DenseOptions(4).name("d0").input_shape({3})),
                layers::BatchNormalization(layers::BatchNormalizationOptions().name("bn")),
                layers::Dense(layers::DenseOptions(2).name("d1"))});
  EXPECT_EQ(names(s.weights()), kKerasOrder);
  EXPECT_EQ(s.count_params(), 16 + 16 + 10);

  // Nested: the inner model's weights come in its own (per-layer) order where it stands.
  auto inner = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(4).name("d0").input_shape({3})),
      layers::BatchNormalization(layers::BatchNormalizationOptions().name("bn")),
      layers::Dense(layers::DenseOptions(2).name("d1"))});
  auto in = Input({3});
  auto out = layers::Dense(layers::DenseOptions(1).name("head"))((*inner)(in));
  Model outer(in, out);
  std::vector<std::string> want = kKerasOrder;
  want.push_back("head/kernel");
  want.push_back("head/bias");
  EXPECT_EQ(names(outer.weights()), want);
  // A layer's own list (Keras's _legacy_weights, the HDF5 order) is unchanged.
  EXPECT_EQ(names(inner->legacy_weights()),
            (std::vector<std::string>{"d0/kernel", "d0/bias", "bn/gamma", "bn/beta", "d1/kernel", "d1/bias",
                                      "bn/moving_mean", "bn/moving_variance"}));
}
