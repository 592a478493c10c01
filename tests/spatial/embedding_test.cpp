#include <gtest/gtest.h>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/embedding.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

TEST(Embedding, GathersRowsForI32AndI64Ids) {
  Generator gen(1);
  Tensor table = rnd({7, 3}, gen);
  for (DType id_type : {DType::i32, DType::i64}) {
    Tensor ids = Tensor::from_vector<int64_t>({6, 0, 2, 2, 5, 1}, {2, 3}).to(id_type);
    for (DType dt : {DType::f64, DType::f32}) {
      Tensor y = ops::embedding(table.to(dt), ids);
      ASSERT_EQ(y.shape(), (Shape{2, 3, 3}));
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
          for (int64_t k = 0; k < 3; ++k)
            EXPECT_EQ(y.at<double>({i, j, k}), table.to(dt).at<double>({ids.at<int64_t>({i, j}), k}));
    }
  }
  // A single id and an empty batch.
  EXPECT_EQ(ops::embedding(table, Tensor::from_vector<int32_t>({4}, {1})).shape(), (Shape{1, 3}));
  EXPECT_EQ(ops::embedding(table, Tensor::zeros({0, 5}, DType::i64)).shape(), (Shape{0, 5, 3}));
}

TEST(Embedding, GradientScatterAddsRepeatedIds) {
  Generator gen(2);
  Tensor table = rnd({5, 4}, gen);
  Tensor ids = Tensor::from_vector<int32_t>({3, 1, 3, 3, 0}, {5});
  auto f = [&](const std::vector<Tensor>& v) { return ops::embedding(v[0], ids); };
  auto r = gradcheck(f, {table});
  EXPECT_TRUE(r.ok) << r.message;
  Tensor seed = rnd({5, 4}, gen);
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor g = grads(f, {table}, seed, dt)[0].to(DType::f64);
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(g.at<double>({3, k}), seed.at<double>({0, k}) + seed.at<double>({2, k}) + seed.at<double>({3, k}), 1e-6);
      EXPECT_NEAR(g.at<double>({1, k}), seed.at<double>({1, k}), 1e-6);
      EXPECT_EQ(g.at<double>({2, k}), 0.0);
    }
  }
}

TEST(Embedding, OutOfRangeIdsNameTheIdAndTableSize) {
  Tensor table = Tensor::zeros({5000, 32});
  EXPECT_EQ(error_of([&] { ops::embedding(table, Tensor::from_vector<int64_t>({1, 5000}, {2})); }),
            "embedding: id 5000 is out of range for a table of 5000 rows");
  EXPECT_EQ(error_of([&] { ops::embedding(table, Tensor::from_vector<int32_t>({-1}, {1})); }),
            "embedding: id -1 is out of range for a table of 5000 rows");
  EXPECT_EQ(error_of([&] { ops::embedding(table, Tensor::zeros({2})); }), "embedding: ids must be i32 or i64, got f32 [2]");
  EXPECT_EQ(error_of([&] { ops::embedding(Tensor::zeros({5}), Tensor::zeros({2}, DType::i32)); }),
            "embedding: table must be [V,D], got [5]");
}
