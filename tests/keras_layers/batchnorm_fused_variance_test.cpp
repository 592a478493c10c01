// BatchNormalization's moving variance: on 4-D inputs Keras uses TensorFlow's fused kernel, which
// updates it with the unbiased batch variance (n / (n - 1), n values per channel); on 2-D inputs
// the non-fused path uses the biased one.
#include <gtest/gtest.h>

#include "keel/keras/layers/layers.h"
#include "keel/ops/normalization.h"

using namespace keel;
using namespace keel::keras;

TEST(BatchNormMovingVariance, FourDimensionalInputUsesUnbiasedVariance) {
  layers::BatchNormalization bn;
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 5}, {2, 1, 2, 1});  // n = 4 values in one channel
  bn(x, /*training=*/true);
  const double mean = 2.75, biased = (1.75 * 1.75 + 0.75 * 0.75 + 0.25 * 0.25 + 2.25 * 2.25) / 4;
  EXPECT_NEAR(bn.moving_mean().value().data<float>()[0], 0.01 * mean, 1e-7);
  // tf.keras 2.4: 0.99 * 1 + 0.01 * (biased * 4 / 3) = 1.019167
  EXPECT_NEAR(bn.moving_variance().value().data<float>()[0], 0.99 + 0.01 * biased * 4 / 3, 1e-6);
  EXPECT_NEAR(bn.moving_variance().value().data<float>()[0], 1.019167, 1e-6);
}

TEST(BatchNormMovingVariance, TwoDimensionalInputKeepsBiasedVariance) {
  layers::BatchNormalization bn;
  bn(Tensor::from_vector<float>({1, 2, 3, 5}, {4, 1}), /*training=*/true);
  const double biased = (1.75 * 1.75 + 0.75 * 0.75 + 0.25 * 0.25 + 2.25 * 2.25) / 4;
  EXPECT_NEAR(bn.moving_variance().value().data<float>()[0], 0.99 + 0.01 * biased, 1e-6);
}

TEST(BatchNormMovingVariance, OpCorrectionAndItsSingleValueCase) {
  for (DType dt : {DType::f32, DType::f64}) {
    Variable mm("mm", Tensor::zeros({2}).to(dt), false), mv("mv", Tensor::zeros({2}).to(dt), false);
    ops::BatchNormParams p;
    p.training = true;
    p.momentum = 0.0;  // the moving statistics become the batch's
    p.unbiased_moving_variance = true;
    ops::batch_norm(Tensor::from_vector<double>({0, 1, 2, 3, 4, 7}, {3, 2}).to(dt), Tensor(), Tensor(), mm, mv, p);
    // channel 0: {0, 2, 4}, channel 1: {1, 3, 7}; unbiased variances 4 and 9.333...
    EXPECT_NEAR(mv.value().to(DType::f64).data<double>()[0], 4.0, 1e-6);
    EXPECT_NEAR(mv.value().to(DType::f64).data<double>()[1], 28.0 / 3, 1e-5);
    // One value per channel: TensorFlow divides by max(n - 1, 1), so the variance stays 0.
    ops::batch_norm(Tensor::from_vector<double>({5, 6}, {1, 2}).to(dt), Tensor(), Tensor(), mm, mv, p);
    EXPECT_EQ(mv.value().to(DType::f64).data<double>()[0], 0.0);
  }
}
