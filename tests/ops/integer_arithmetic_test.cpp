// Integer arithmetic at the edges of the integer types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "error_of.h"
#include "keel/ops/elementwise.h"

using namespace keel;
using keel::test::error_of;

// Integer division's one overflowing quotient (the most negative value over -1) trapped with SIGFPE on
// x86 and killed the process; it now wraps like the other integer ops (NumPy gives the same value).
TEST(IntegerArithmetic, MostNegativeOverMinusOneWrapsInsteadOfTrapping) {
  const int32_t m32 = std::numeric_limits<int32_t>::min();
  const int64_t m64 = std::numeric_limits<int64_t>::min();
  Tensor a32 = Tensor::from_vector<int32_t>({m32, 7, -7}), b32 = Tensor::from_vector<int32_t>({-1, -1, -1});
  EXPECT_EQ(ops::div(a32, b32).to_vector<int32_t>(), (std::vector<int32_t>{m32, -7, 7}));
  EXPECT_EQ(ops::div(a32, -1.0).to_vector<int32_t>(), (std::vector<int32_t>{m32, -7, 7}));
  Tensor a64 = Tensor::from_vector<int64_t>({m64, 9}), b64 = Tensor::from_vector<int64_t>({-1});
  EXPECT_EQ(ops::div(a64, b64).to_vector<int64_t>(), (std::vector<int64_t>{m64, -9}));
  EXPECT_EQ(ops::div(a64, -1.0).to_vector<int64_t>(), (std::vector<int64_t>{m64, -9}));
  // Other divisors truncate as before.
  EXPECT_EQ(ops::div(a32, 2.0).to_vector<int32_t>(), (std::vector<int32_t>{m32 / 2, 3, -3}));
}

// A scalar right-hand side takes the tensor's dtype; converting NaN or a value past an integer type's
// range was undefined (x86 gave the most negative integer, so x + 1e20 silently subtracted 2^31).
TEST(IntegerArithmetic, ScalarsOutsideTheIntegerTypeAreErrors) {
  Tensor i = Tensor::from_vector<int32_t>({1, 2});
  EXPECT_EQ(error_of([&] { ops::add(i, 1e20); }), "add: scalar 1e+20 does not fit the input's dtype i32 (input [2])");
  EXPECT_EQ(error_of([&] { ops::mul(i, std::nan("")); }), "mul: scalar nan does not fit the input's dtype i32 (input [2])");
  EXPECT_EQ(error_of([&] { ops::sub(Tensor::from_vector<uint8_t>({3}), -1.0); }),
            "sub: scalar -1 does not fit the input's dtype u8 (input [1])");
  EXPECT_EQ(ops::add(i, 2147483645.0).to_vector<int32_t>(), (std::vector<int32_t>{2147483646, 2147483647}));
  EXPECT_EQ(ops::pow(i, 2.0).to_vector<int32_t>(), (std::vector<int32_t>{1, 4}));
}

// 2^-1 truncated silently to 0; TensorFlow and torch both refuse integer tensors to negative integer powers.
TEST(IntegerArithmetic, NegativePowersOfIntegersAreErrors) {
  Tensor i = Tensor::from_vector<int32_t>({2, 3});
  EXPECT_EQ(error_of([&] { ops::pow(i, Tensor::from_vector<int32_t>({1, -1})); }),
            "pow: integers to negative integer powers are not allowed (exponent -1 in [2] i32)");
  EXPECT_EQ(error_of([&] { ops::pow(i, -2.0); }),
            "pow: integers to negative powers are not allowed (exponent -2, input [2] i32)");
  EXPECT_EQ(ops::pow(i, Tensor::from_vector<int32_t>({3, 0})).to_vector<int32_t>(), (std::vector<int32_t>{8, 1}));
  EXPECT_EQ(ops::pow(Tensor::from_vector<uint8_t>({2}), Tensor::from_vector<uint8_t>({7})).to_vector<uint8_t>(),
            (std::vector<uint8_t>{128}));
}
