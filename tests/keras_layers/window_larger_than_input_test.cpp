// A "valid" pooling window or convolution kernel larger than its input is an error naming the layer,
// the input shape and the window (TensorFlow: "Negative dimension size ..."), symbolically and eagerly,
// instead of a 0-sized output shape.
#include <gtest/gtest.h>

#include <functional>

#include "keel/keras/layers/layers.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;

namespace {
using keel::test::error_of;
}  // namespace

TEST(WindowLargerThanInput, PoolingSymbolicAndEager) {
  auto pool = std::make_shared<layers::MaxPooling2D>(layers::Pool2DOptions(3).name("max_pooling2d_big"));
  auto in = Input({2, 2, 1});
  EXPECT_EQ(error_of([&] { (*pool)(in); }),
            "MaxPooling2D 'max_pooling2d_big': negative dimension size caused by subtracting 3 from 2 on axis 1: "
            "input (None, 2, 2, 1), pool_size (3, 3), padding 'valid'");
  EXPECT_EQ(error_of([&] { (*pool)(Tensor::zeros({1, 4, 2, 1})); }),
            "MaxPooling2D 'max_pooling2d_big': negative dimension size caused by subtracting 3 from 2 on axis 2: "
            "input (1, 4, 2, 1), pool_size (3, 3), padding 'valid'");
  layers::AveragePooling2D avg(layers::Pool2DOptions(3).name("avg_big"));
  EXPECT_EQ(error_of([&] { avg(Tensor::zeros({1, 2, 5, 1})); }),
            "AveragePooling2D 'avg_big': negative dimension size caused by subtracting 3 from 2 on axis 1: "
            "input (1, 2, 5, 1), pool_size (3, 3), padding 'valid'");
}

TEST(WindowLargerThanInput, ConvSymbolicAndEager) {
  auto conv = std::make_shared<layers::Conv2D>(layers::Conv2DOptions(2, 5).name("conv_big"));
  EXPECT_EQ(error_of([&] { (*conv)(Input({4, 6, 1})); }),
            "Conv2D 'conv_big': negative dimension size caused by subtracting 5 from 4 on axis 1: "
            "input (None, 4, 6, 1), kernel_size (5, 5), padding 'valid'");
  layers::Conv2D dilated(layers::Conv2DOptions(2, 3).dilation_rate(2, 2).name("conv_dilated"));
  EXPECT_EQ(error_of([&] { dilated(Tensor::zeros({1, 4, 8, 1})); }),
            "Conv2D 'conv_dilated': negative dimension size caused by subtracting 5 from 4 on axis 1: "
            "input (1, 4, 8, 1), kernel_size (3, 3) dilated, padding 'valid'");
}

TEST(WindowLargerThanInput, ExactFitAndSamePaddingStillWork) {
  EXPECT_EQ(layers::MaxPooling2D(layers::Pool2DOptions(3))(Tensor::zeros({1, 3, 3, 1})).shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(layers::MaxPooling2D(layers::Pool2DOptions(3).padding("same"))(Tensor::zeros({1, 2, 2, 1})).shape(),
            (Shape{1, 1, 1, 1}));
  auto out = layers::Conv2D(layers::Conv2DOptions(2, 4))(Input({4, 4, 1}));
  EXPECT_EQ(out.shape(), (Shape{-1, 1, 1, 2}));
}
