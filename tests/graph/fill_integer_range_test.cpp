// Tensor::full / fill_ into an integer dtype with NaN, an infinity or a value past the type's range
// was an undefined conversion that silently gave the most negative integer on x86; torch.full refuses
// such values, and so does keel now.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "error_of.h"
#include "keel/graph/tensor.h"

using namespace keel;
using keel::test::error_of;

TEST(FillIntegerRange, ValuesOutsideTheIntegerTypeAreErrors) {
  EXPECT_EQ(error_of([] { Tensor::full({2}, std::nan(""), DType::i32); }),
            "Tensor::fill_: value nan does not fit i32 (tensor of shape [2])");
  EXPECT_EQ(error_of([] { Tensor::full({2, 1}, 1e20, DType::i32); }),
            "Tensor::fill_: value 1e+20 does not fit i32 (tensor of shape [2,1])");
  EXPECT_EQ(error_of([] { Tensor::scalar(-1, DType::u8); }), "Tensor::fill_: value -1 does not fit u8 (tensor of shape [])");
  EXPECT_EQ(error_of([] { Tensor::scalar(9.3e18, DType::i64); }),
            "Tensor::fill_: value 9.3e+18 does not fit i64 (tensor of shape [])");
  Tensor t = Tensor::zeros({3}, DType::i64);
  const uint64_t version = t.version();
  EXPECT_EQ(error_of([&] { t.fill_(-std::numeric_limits<double>::infinity()); }),
            "Tensor::fill_: value -inf does not fit i64 (tensor of shape [3])");
  EXPECT_EQ(t.version(), version);  // nothing written
}

TEST(FillIntegerRange, TheRangeEndsAndFractionsStillWork) {
  EXPECT_EQ(Tensor::scalar(-2147483648.0, DType::i32).item<int32_t>(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(Tensor::scalar(2147483647.0, DType::i32).item<int32_t>(), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(Tensor::scalar(255, DType::u8).item<int>(), 255);
  EXPECT_EQ(Tensor::scalar(-9223372036854775808.0, DType::i64).item<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Tensor::full({2}, 2.9, DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{2, 2}));  // truncates
  EXPECT_TRUE(Tensor::scalar(std::nan(""), DType::boolean).item<bool>());  // nonzero is true
}
