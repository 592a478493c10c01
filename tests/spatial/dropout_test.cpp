#include <gtest/gtest.h>

#include "keel/autodiff/gradcheck.h"
#include "keel/ops/dropout.h"
#include "spatial_util.h"

using namespace keel;
using namespace spatial_test;

TEST(Dropout, InvertedScalingAndRate) {
  Generator data(1), gen(42);
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = rnd({100, 100}, data, 0.5, 1.5, dt);
    Tensor y = ops::dropout(x, 0.3, gen, true);
    Tensor xs = x.to(DType::f64), ys = y.to(DType::f64);
    int64_t dropped = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double v = ys.data<double>()[i];
      if (v == 0) {
        ++dropped;
      } else {
        EXPECT_NEAR(v, xs.data<double>()[i] / 0.7, 1e-6);
      }
    }
    EXPECT_NEAR(dropped / 10000.0, 0.3, 0.02);
  }
}

TEST(Dropout, SameGeneratorStateSameMask) {
  Generator data(2), gen(7);
  Tensor x = rnd({37, 5}, data, 1, 2);
  const auto state = gen.state();
  Tensor a = ops::dropout(x, 0.5, gen, true);
  EXPECT_FALSE(gen.state() == state);  // the generator advanced
  Tensor b = ops::dropout(x, 0.5, gen, true);
  EXPECT_FALSE(a.equal(b));
  gen.set_state(state);
  EXPECT_TRUE(ops::dropout(x, 0.5, gen, true).equal(a));
}

TEST(Dropout, IdentityAtInferenceAndRateZero) {
  Generator data(3), gen(1);
  Tensor x = rnd({4, 3}, data);
  const auto state = gen.state();
  EXPECT_TRUE(ops::dropout(x, 0.5, gen, false).same_storage(x));
  EXPECT_TRUE(ops::dropout(x, 0.0, gen, true).equal(x));
  EXPECT_TRUE(gen.state() == state);
}

TEST(Dropout, GradientUsesTheMask) {
  Generator data(4);
  Tensor x = rnd({6, 7}, data);
  auto f = [](const std::vector<Tensor>& v) {
    Generator g(99);  // the same mask on every call, as finite differences need
    return ops::dropout(v[0], 0.4, g, true);
  };
  auto r = gradcheck(f, {x});
  EXPECT_TRUE(r.ok) << r.message;
  Tensor seed = rnd({6, 7}, data);
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor y = f({x.to(dt)});
    Tensor g = grads(f, {x}, seed, dt)[0].to(DType::f64);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const bool kept = y.to(DType::f64).data<double>()[i] != 0;
      EXPECT_NEAR(g.data<double>()[i], kept ? seed.data<double>()[i] / 0.6 : 0.0, 1e-6);
    }
  }
}

TEST(Dropout, BadRate) {
  Generator gen(1);
  EXPECT_EQ(error_of([&] { ops::dropout(Tensor::zeros({2}), 1.0, gen, true); }), "dropout: rate 1 must be in [0, 1)");
  EXPECT_EQ(error_of([&] { ops::dropout(Tensor::zeros({2}, DType::i32), 0.5, gen, true); }),
            "dropout: input must be f32 or f64, got i32");
}
