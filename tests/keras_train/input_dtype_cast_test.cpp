// Models cast numeric inputs to their Input's dtype (tf.keras's _conform_to_reference_input): fit,
// evaluate and predict take float64 or uint8 x (Fashion-MNIST's raw images) and give what float32 x
// gives; a layer called directly casts a float64 input (Keras's autocast) and names itself when an
// integer input does not fit.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/optimizers.h"
#include "keel/ops/reduce.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;

namespace {

std::shared_ptr<Sequential> mlp(bool with_input_shape) {
  auto first = layers::DenseOptions(4).activation("relu").kernel_initializer(
      std::make_shared<initializers::GlorotUniform>(1));
  if (with_input_shape) first.input_shape({3});
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(first),
      layers::Dense(layers::DenseOptions(2).kernel_initializer(std::make_shared<initializers::GlorotUniform>(2)))});
  m->compile(CompileOptions().optimizer("sgd").loss("mse"));
  return m;
}

// Small integers, exact in every dtype.
Tensor data(DType dt) {
  std::vector<double> v;
  for (int i = 0; i < 18; ++i) v.push_back((i * 7) % 5);
  return Tensor::from_vector<double>(v, {6, 3}).to(dt);
}

std::vector<float> flat(const std::vector<Tensor>& ts) {
  std::vector<float> out;
  for (const auto& t : ts) out.insert(out.end(), t.data<float>(), t.data<float>() + t.numel());
  return out;
}

using keel::test::error_of;

}  // namespace

TEST(InputDtypeCast, FitEvaluatePredictOnF64AndU8MatchF32) {
  for (bool with_input_shape : {true, false}) {
    const Tensor y = Tensor::ones({6, 2});
    auto ref = mlp(with_input_shape);
    ref->fit(data(DType::f32), y, FitOptions().epochs(2).batch_size(3).shuffle(false).verbose(0));
    const Tensor want = ref->predict(data(DType::f32));
    for (DType dt : {DType::f64, DType::u8}) {
      auto m = mlp(with_input_shape);
      m->fit(data(dt), y, FitOptions().epochs(2).batch_size(3).shuffle(false).verbose(0));
      EXPECT_EQ(flat(m->get_weights()), flat(ref->get_weights())) << dtype_name(dt);
      const Tensor got = m->predict(data(dt));
      EXPECT_EQ(got.dtype(), DType::f32);
      EXPECT_EQ(flat({got}), flat({want})) << dtype_name(dt);
      EXPECT_EQ(m->evaluate(data(dt), y, EvaluateOptions().verbose(0)).at("loss"),
                ref->evaluate(data(DType::f32), y, EvaluateOptions().verbose(0)).at("loss"));
    }
  }
}

TEST(InputDtypeCast, FunctionalModelCastsToItsInputDtype) {
  auto in = Input({3});
  auto out = layers::Dense(layers::DenseOptions(2).kernel_initializer("ones"))(in);
  Model m(in, out);
  const Tensor y = m(data(DType::f64));
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(flat({y}), flat({m(data(DType::f32))}));
}

// Keras's autocast: a layer called directly on float64 computes in float32 and differentiates back to
// the float64 input; an integer input is not cast, and the error names the layer.
TEST(InputDtypeCast, LayerCalledDirectlyOnF64CastsLikeKeras) {
  layers::Dense dense(layers::DenseOptions(4).name("dense_direct").kernel_initializer(
      std::make_shared<initializers::GlorotUniform>(3)));
  Tensor x64 = data(DType::f64).set_requires_grad();
  const Tensor y = dense(x64);
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_EQ(flat({y}), flat({dense(data(DType::f32))}));
  ops::sum(y).backward();
  ASSERT_TRUE(x64.grad().defined());
  EXPECT_EQ(x64.grad().dtype(), DType::f64);
  // d sum(x W) / dx[r, i] = sum_j W[i, j], the same for every row.
  const Tensor w = dense.get_weights()[0];
  for (int64_t i = 0; i < 3; ++i) {
    double want = 0;
    for (int64_t j = 0; j < 4; ++j) want += w.data<float>()[i * 4 + j];
    EXPECT_NEAR(x64.grad().data<double>()[5 * 3 + i], want, 1e-6) << i;
  }
  const std::string e = error_of([&] { dense(data(DType::i32)); });
  EXPECT_EQ(e.rfind("Dense 'dense_direct': called on a i32 input [6,3]; the layer computes in f32, cast the input "
                    "first (",
                    0),
            0u)
      << e;
}

TEST(InputDtypeCast, FitsRawFashionMnistImages) {
  const auto d = datasets::fashion_mnist::load_data();
  ASSERT_EQ(d.x_train.dtype(), DType::u8);
  const Tensor x = keras::detail::take_rows(d.x_train, 0, 256), y = keras::detail::take_rows(d.y_train, 0, 256);
  Sequential m({layers::Flatten(layers::FlattenOptions().input_shape({28, 28})), layers::Dense(10)});
  m.compile(CompileOptions()
                .optimizer("adam")
                .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                .metrics({"accuracy"}));
  auto history = m.fit(x, y, FitOptions().epochs(1).batch_size(64).verbose(0));
  EXPECT_TRUE(std::isfinite(history->at("loss")[0]));
  EXPECT_EQ(m.predict(keras::detail::take_rows(d.x_test, 0, 8)).shape(), (Shape{8, 10}));
}
