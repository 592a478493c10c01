// Strides, dilations and windows near int64's end. Before: conv_geometry's arithmetic wrapped (a 'same'
// convolution with stride INT64_MAX was called "smaller than the dilated kernel with valid padding"),
// and what oneDNN refused escaped as a bare dnnl::error ("could not create a descriptor for a dilated
// convolution forward propagation primitive") naming neither the op nor the shapes.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "error_of.h"
#include "keel/ops/conv.h"
#include "keel/ops/pool.h"

using namespace keel;
using keel::test::error_of;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

TEST(ConvGeometryExtremes, OverflowIsAnErrorNamingTheValues) {
  EXPECT_EQ(error_of([] { ops::conv_geometry(4, 3, 1, kMax, ops::Padding::same); }),
            "conv_geometry: kernel 3 with dilation 9223372036854775807 spans more than int64 counts");
  EXPECT_EQ(error_of([] { ops::conv_geometry(4, 3, 1, kMax / 2 + 1, ops::Padding::valid); }),
            "conv_geometry: kernel 3 with dilation 4611686018427387904 spans more than int64 counts");
  // 'same' with a stride past the input: one output, no padding (was an empty output from a wrapped sum).
  const ops::ConvGeometry g = ops::conv_geometry(4, 3, kMax, 1, ops::Padding::same);
  EXPECT_EQ(g.out, 1);
  EXPECT_EQ(g.pad_before + g.pad_after, 0);
  // Ordinary values are unchanged: 'same' pads (out - 1) * stride + eff - in, the extra after.
  const ops::ConvGeometry h = ops::conv_geometry(7, 3, 2, 2, ops::Padding::same);
  EXPECT_EQ(h.out, 4);
  EXPECT_EQ(h.pad_before, 2);
  EXPECT_EQ(h.pad_after, 2);
}

TEST(ConvGeometryExtremes, WhatOneDnnRefusesNamesTheOpAndShapes) {
  const std::string conv = error_of([] {
    ops::conv2d(Tensor::ones({1, 4, 4, 1}), Tensor::ones({3, 3, 1, 1}), Tensor(),
                ops::Conv2DParams().dilation(int64_t{1} << 40, 1).padding("same"));
  });
  EXPECT_TRUE(starts_with(conv, "conv2d: oneDNN cannot run input [1,4,4,1] with kernel [3,3,1,1], strides (1,1), "
                                "dilation (1099511627776,1), padding (")) << conv;
  const std::string pool = error_of([] {
    ops::max_pool2d(Tensor::ones({1, 4, 4, 1}), ops::Pool2DParams().pool(kMax / 2, 2).padding("same"));
  });
  EXPECT_TRUE(starts_with(pool, "max_pool2d: oneDNN cannot run input [1,4,4,1] with window 4611686018427387903x2"))
      << pool;
}
