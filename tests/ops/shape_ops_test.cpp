#include <gtest/gtest.h>

#include "keel/graph/node.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"
#include "test_util.h"

using namespace keel;
using namespace keel::test;

TEST(ShapeOps, ReshapeIsARecordedView) {
  Tensor x = rnd({2, 3, 4}, DType::f64).set_requires_grad();
  Tensor y = ops::reshape(x, {-1, 4});
  EXPECT_EQ(y.shape(), (Shape{6, 4}));
  EXPECT_TRUE(y.same_storage(x));
  EXPECT_TRUE(y.requires_grad());
  ops::sum(ops::mul(y, 2.0)).backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(ops::reshape(Tensor::zeros({0, 3}), {-1, 3}).shape(), (Shape{0, 3}));
  EXPECT_EQ(ops::flatten(Tensor::zeros({2, 3, 4})).shape(), (Shape{2, 12}));
  EXPECT_EQ(ops::expand_dims(Tensor::zeros({2, 3}), -1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(ops::squeeze(Tensor::zeros({1, 2, 1})).shape(), (Shape{2}));
  EXPECT_EQ(ops::squeeze(Tensor::zeros({1, 2, 1}), {0}).shape(), (Shape{2, 1}));
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::squeeze(ops::expand_dims(in[0], 1)); },
                 {rnd({2, 3}, DType::f64)}, "expand/squeeze");
}

TEST(ShapeOps, PermuteMatchesReference) {
  Tensor x = rnd({2, 3, 4, 5}, DType::f64);
  const std::vector<int64_t> perm{2, 0, 3, 1};
  Tensor y = ops::permute(x, perm);
  EXPECT_EQ(y.shape(), (Shape{4, 2, 5, 3}));
  const auto v = values(x);
  for (int64_t i = 0; i < y.numel(); ++i) {
    auto oi = unravel(i, y.shape());
    std::vector<int64_t> xi(4);
    for (int d = 0; d < 4; ++d) xi[perm[d]] = oi[d];
    ASSERT_EQ(values(y)[i], v[ravel_broadcast(xi, x.shape())]);
  }
  Tensor m = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(ops::transpose(m).to_vector<int32_t>(), (std::vector<int32_t>{1, 4, 2, 5, 3, 6}));
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::permute(in[0], perm); }, {x}, "permute");
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::transpose(in[0]); }, {rnd({3, 1, 2}, DType::f64)},
                 "transpose");
}

TEST(ShapeOps, SliceConcatStack) {
  Tensor x = Tensor::arange(0, 24, 1, DType::f64).view({4, 6});
  EXPECT_EQ(ops::slice(x, 1, 1, 6, 2).to_vector<double>(),
            (std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  EXPECT_EQ(ops::slice(x, 0, -1, 100).to_vector<double>(), (std::vector<double>{18, 19, 20, 21, 22, 23}));
  EXPECT_EQ(ops::slice(x, 0, 3, 1).shape(), (Shape{0, 6}));
  Tensor a = rnd({2, 3}, DType::f64, -1, 1, 1), b = rnd({2, 1}, DType::f64, -1, 1, 2);
  Tensor c = ops::concat({a, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  EXPECT_EQ(c.at<double>({1, 3}), b.at<double>({1, 0}));
  EXPECT_EQ(c.at<double>({1, 2}), a.at<double>({1, 2}));
  Tensor s = ops::stack({a, a}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(s.at<double>({1, 1, 2}), a.at<double>({1, 2}));
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::slice(in[0], 1, 0, 5, 2); },
                 {rnd({3, 5}, DType::f64)}, "slice");
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::concat({in[0], in[1], in[0]}, 0); },
                 {rnd({2, 3}, DType::f64), rnd({1, 3}, DType::f64)}, "concat");
  expect_grad_ok([](const std::vector<Tensor>& in) { return ops::stack({in[0], in[1]}, -1); },
                 {rnd({2, 3}, DType::f64), rnd({2, 3}, DType::f64)}, "stack");
}

TEST(ShapeOps, GatherOneHotArgmax) {
  Tensor table = Tensor::arange(0, 12, 1, DType::f64).view({4, 3});
  Tensor ids = Tensor::from_vector<int64_t>({3, 0, 3}, {3});
  EXPECT_EQ(ops::gather(table, ids).to_vector<double>(), (std::vector<double>{9, 10, 11, 0, 1, 2, 9, 10, 11}));
  Tensor ids2 = Tensor::from_vector<int32_t>({2, 0, 1, 2}, {2, 2});
  Tensor g1 = ops::gather(table, ids2, 1);
  EXPECT_EQ(g1.shape(), (Shape{4, 2, 2}));
  EXPECT_EQ(g1.at<double>({1, 0, 0}), 5);
  // Scatter-add gradient: a repeated index accumulates.
  Tensor t = rnd({4, 3}, DType::f64).set_requires_grad();
  ops::sum(ops::gather(t, ids)).backward();
  EXPECT_EQ(t.grad().to_vector<double>(), (std::vector<double>{1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2}));
  expect_grad_ok([&](const std::vector<Tensor>& in) { return ops::gather(in[0], ids2, 1); }, {rnd({4, 3}, DType::f64)},
                 "gather");
  EXPECT_EQ(ops::one_hot(Tensor::from_vector<int32_t>({1, 0, 5}), 3).to_vector<float>(),
            (std::vector<float>{0, 1, 0, 1, 0, 0, 0, 0, 0}));
  Tensor am = ops::argmax(Tensor::from_vector<float>({1, 5, 5, 7, 2, 0}, {2, 3}));
  EXPECT_EQ(am.dtype(), DType::i64);
  EXPECT_EQ(am.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(ops::argmax(Tensor::from_vector<float>({1, 5, 5, 7, 2, 0}, {2, 3}), 0).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0, 0}));
}

TEST(ShapeOps, Errors) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { ops::reshape(x, {4, -1}); }), "reshape: cannot reshape [2,3] to [4,-1]");
  EXPECT_EQ(error_of([&] { ops::reshape(x, {-1, -1}); }), "reshape: [-1,-1] has more than one -1");
  EXPECT_EQ(error_of([&] { ops::reshape(x, {5}); }), "reshape: cannot reshape [2,3] to [5]");
  EXPECT_EQ(error_of([&] { ops::squeeze(x, {1}); }), "squeeze: axis 1 of [2,3] has size 3, not 1");
  EXPECT_EQ(error_of([&] { ops::permute(x, {0, 0}); }), "permute: [0,0] is not a permutation of 2 axes");
  EXPECT_EQ(error_of([&] { ops::gather(x, Tensor::from_vector<int64_t>({2})); }),
            "gather: index 2 is out of range for axis 0 of size 2");
  EXPECT_EQ(error_of([&] { ops::gather(x, Tensor::from_vector<int32_t>({-1}), 1); }),
            "gather: index -1 is out of range for axis 1 of size 3");
  EXPECT_EQ(error_of([&] { ops::gather(x, Tensor::zeros({1})); }), "gather: indices must be i32 or i64, got f32");
  EXPECT_EQ(error_of([&] { ops::concat({x, Tensor::zeros({3, 3})}, 1); }),
            "concat: input 1 is [3,3] f32, input 0 is [2,3] f32 (axis 1)");
  EXPECT_EQ(error_of([&] { ops::stack({x, Tensor::zeros({3})}); }), "stack: input 1 is [3], input 0 is [2,3]");
  EXPECT_EQ(error_of([&] { ops::slice(x, 0, 0, 1, 0); }), "slice: step 0 must be positive");
  EXPECT_EQ(error_of([&] { ops::transpose(Tensor::zeros({3})); }), "transpose: needs rank >= 2, got [3]");
}

TEST(ShapeOps, SliceWithAHugeStepTakesTheFirstElement) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5});
  Tensor s = ops::slice(x, 0, 0, 5, INT64_MAX);  // (stop - start + step - 1) overflowed int64
  EXPECT_EQ(s.shape(), (Shape{1}));
  EXPECT_EQ(s.to_vector<double>(), (std::vector<double>{1}));
  EXPECT_EQ(ops::slice(x, 0, 1, 5, INT64_MAX - 1).to_vector<double>(), (std::vector<double>{2}));
  EXPECT_EQ(ops::slice(x, 0, 0, 5, 2).to_vector<double>(), (std::vector<double>{1, 3, 5}));
}

// Empty inputs whose sizes along the axis sum past int64 used to wrap, and the error blamed a negative
// dimension of a shape the user never wrote ("Tensor: negative dimension in shape [0,-9223372036854775808]").
TEST(ShapeOps, ConcatSizesPastInt64AreAnErrorNamingTheInputs) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_EQ(error_of([&] { ops::concat({Tensor::zeros({0, big}), Tensor::zeros({0, big})}, 1); }),
            "concat: the sizes along axis 1 overflow int64 at input 1 [0,4611686018427387904] (input 0 is "
            "[0,4611686018427387904])");
}

TEST(ShapeOps, ReverseMatchesReferenceOnEveryAxis) {
  Tensor x = rnd({2, 3, 4}, DType::f64);
  const auto v = values(x);
  for (int64_t axis = 0; axis < 3; ++axis) {
    Tensor y = ops::reverse(x, axis);
    ASSERT_EQ(y.shape(), x.shape());
    for (int64_t i = 0; i < y.numel(); ++i) {
      auto idx = unravel(i, y.shape());
      idx[axis] = x.shape()[axis] - 1 - idx[axis];
      ASSERT_EQ(values(y)[i], v[ravel_broadcast(idx, x.shape())]) << "axis " << axis << " element " << i;
    }
    expect_grad_ok([axis](const std::vector<Tensor>& in) { return ops::mul(ops::reverse(in[0], axis), in[0]); },
                   {x}, "reverse");
  }
  EXPECT_EQ(ops::reverse(Tensor::from_vector<int32_t>({1, 2, 3}), -1).to_vector<int32_t>(),
            (std::vector<int32_t>{3, 2, 1}));
  EXPECT_EQ(ops::reverse(Tensor::zeros({2, 0, 3}), 1).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(error_of([] { ops::reverse(Tensor::zeros({2, 3}), 2); }), "reverse: axis 2 is out of range for rank 2");
}
