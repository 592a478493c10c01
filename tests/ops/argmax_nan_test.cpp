// argmax with NaN: ops::max propagates NaN, and torch.argmax returns the index of the first NaN. keel's
// argmax skipped a NaN unless it came first ([1, nan, 3] -> 2 but [nan, 1, 3] -> 0).
#include <gtest/gtest.h>

#include <cmath>

#include "keel/ops/shape_ops.h"

using namespace keel;

TEST(ArgmaxNaN, FirstNaNIsTheMaximumWhereverItSits) {
  const float nan = std::nanf("");
  EXPECT_EQ(ops::argmax(Tensor::from_vector<float>({1, nan, 3}), 0).item<int64_t>(), 1);
  EXPECT_EQ(ops::argmax(Tensor::from_vector<float>({nan, 1, 3}), 0).item<int64_t>(), 0);
  EXPECT_EQ(ops::argmax(Tensor::from_vector<float>({1, 3, nan, nan}), 0).item<int64_t>(), 2);
  EXPECT_EQ(ops::argmax(Tensor::from_vector<double>({5, 2, 9, nan}), 0).item<int64_t>(), 3);
  // Along axis 0 of [3,2]: column 0 has a NaN in row 2, column 1 none.
  const Tensor x = Tensor::from_vector<float>({4, 1, 2, 8, nan, 3}, {3, 2});
  EXPECT_EQ(ops::argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ops::argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
}
