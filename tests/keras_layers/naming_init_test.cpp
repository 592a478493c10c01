// Unique layer names, snake_case, seeds and initializers (Keras formulas and configs).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;

TEST(KerasNaming, SnakeCaseMatchesKeras) {
  EXPECT_EQ(backend::to_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(backend::to_snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(backend::to_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(backend::to_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(backend::to_snake_case("LSTM"), "lstm");
  EXPECT_EQ(backend::to_snake_case("Dense"), "dense");
  EXPECT_EQ(backend::to_snake_case("LayerNormalization"), "layer_normalization");
  EXPECT_EQ(backend::to_snake_case("MyLayerV2"), "my_layer_v2");
}

TEST(KerasNaming, PerClassCountersAndReset) {
  backend::NameScope scope;
  layers::Dense a(3), b(3);
  layers::Dropout d(0.5);
  layers::Conv2D c(2, 3);
  layers::Dense named(DenseOptions(3).name("head"));
  layers::Dense e(3);
  EXPECT_EQ(a.name(), "dense");
  EXPECT_EQ(b.name(), "dense_1");
  EXPECT_EQ(d.name(), "dropout");
  EXPECT_EQ(c.name(), "conv2d");
  EXPECT_EQ(named.name(), "head");
  EXPECT_EQ(e.name(), "dense_2");
  EXPECT_EQ(Input({4}).layer()->name(), "input_1");
  EXPECT_EQ(Input({4}).layer()->name(), "input_2");
  backend::clear_session();
  layers::Dense f(3);
  EXPECT_EQ(f.name(), "dense");
}

TEST(KerasNaming, MovedTemporaryKeepsItsName) {
  backend::NameScope scope;
  Sequential model({layers::Dense(4), layers::Dense(2)});
  EXPECT_EQ(model.name(), "sequential");
  EXPECT_EQ(model.layers().at(0)->name(), "dense");
  EXPECT_EQ(model.layers().at(1)->name(), "dense_1");
  Sequential second;
  EXPECT_EQ(second.name(), "sequential_1");
}

TEST(KerasInitializers, FansFollowKeras) {
  auto f = initializers::compute_fans({3, 3, 16, 32});
  EXPECT_EQ(f.fan_in, 3 * 3 * 16);
  EXPECT_EQ(f.fan_out, 3 * 3 * 32);
  f = initializers::compute_fans({784, 128});
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 128);
  f = initializers::compute_fans({10});
  EXPECT_EQ(f.fan_in, 10);
  EXPECT_EQ(f.fan_out, 10);
}

namespace {
struct Stats {
  double min = 1e300, max = -1e300, mean = 0, stddev = 0;
};
Stats stats(const Tensor& t) {
  Stats s;
  const float* p = t.data<float>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    s.min = std::min(s.min, double(p[i]));
    s.max = std::max(s.max, double(p[i]));
    s.mean += p[i];
  }
  s.mean /= n;
  for (int64_t i = 0; i < n; ++i) s.stddev += (p[i] - s.mean) * (p[i] - s.mean);
  s.stddev = std::sqrt(s.stddev / n);
  return s;
}
}  // namespace

TEST(KerasInitializers, GlorotUniformBoundsAndSpread) {
  Generator g(1);
  const Tensor w = (*initializers::get("glorot_uniform"))({300, 200}, g);
  const double limit = std::sqrt(6.0 / (300 + 200));
  const Stats s = stats(w);
  EXPECT_GE(s.min, -limit);
  EXPECT_LE(s.max, limit);
  EXPECT_GT(s.max, 0.98 * limit);  // 60000 draws reach the ends
  EXPECT_LT(s.min, -0.98 * limit);
  EXPECT_NEAR(s.stddev, limit / std::sqrt(3.0), 0.01 * limit);
  EXPECT_NEAR(s.mean, 0, 0.01 * limit);
}

TEST(KerasInitializers, NormalVariantsHaveKerasStddev) {
  Generator g(2);
  // he_normal: truncated normal with stddev sqrt(2/fan_in)/0.8796..., cut at two of those stddevs; the
  // truncated distribution's own stddev is sqrt(2/fan_in).
  const Tensor w = (*initializers::get("he_normal"))({400, 300}, g);
  const Stats s = stats(w);
  const double target = std::sqrt(2.0 / 400);
  EXPECT_NEAR(s.stddev, target, 0.02 * target);
  EXPECT_LE(s.max, 2 * target / 0.87962566103423978 + 1e-6);
  const Tensor r = (*initializers::get("random_normal"))({200, 200}, g);
  EXPECT_NEAR(stats(r).stddev, 0.05, 0.002);
  const Tensor u = (*initializers::get("random_uniform"))({200, 200}, g);
  EXPECT_LE(stats(u).max, 0.05);
  EXPECT_GE(stats(u).min, -0.05);
  const Tensor lu = (*initializers::get("lecun_uniform"))({100, 50}, g);
  EXPECT_LE(stats(lu).max, std::sqrt(3.0 / 100));
}

TEST(KerasInitializers, ConstantsAndSeeds) {
  Generator g(3);
  EXPECT_EQ(stats((*initializers::get("zeros"))({3, 4}, g)).max, 0);
  EXPECT_EQ(stats((*initializers::get("ones"))({3, 4}, g)).min, 1);
  EXPECT_EQ(stats(initializers::Constant(0.5)({2}, g)).max, 0.5);
  // A seeded initializer gives the same values whatever generator it is handed.
  initializers::GlorotUniform seeded(42);
  Generator g1(1), g2(2);
  EXPECT_TRUE(seeded({5, 5}, g1).equal(seeded({5, 5}, g2)));
  EXPECT_EQ(initializers::serialize(seeded).dump(), R"({"class_name":"GlorotUniform","config":{"seed":42}})");
}

TEST(KerasInitializers, OrthogonalIsOrthogonal) {
  Generator g(4);
  for (Shape shape : {Shape{16, 16}, Shape{32, 8}, Shape{8, 32}}) {
    const Tensor q = (*initializers::get("orthogonal"))(shape, g);
    const int64_t r = shape[0], c = shape[1];
    const float* p = q.data<float>();
    // rows >= cols: columns orthonormal (QᵀQ = I); otherwise rows orthonormal (QQᵀ = I).
    const bool cols = r >= c;
    const int64_t k = cols ? c : r;
    for (int64_t a = 0; a < k; ++a) {
      for (int64_t b = 0; b < k; ++b) {
        double dot = 0;
        for (int64_t i = 0; i < (cols ? r : c); ++i) {
          dot += cols ? double(p[i * c + a]) * p[i * c + b] : double(p[a * c + i]) * p[b * c + i];
        }
        EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5) << shape_str(shape) << " " << a << "," << b;
      }
    }
  }
  EXPECT_EQ(initializers::serialize(initializers::Orthogonal()).dump(),
            R"({"class_name":"Orthogonal","config":{"gain":1.0,"seed":null}})");
}

TEST(KerasInitializers, ConfigsAndErrors) {
  EXPECT_EQ(initializers::serialize(*initializers::get("he_uniform")).dump(),
            R"({"class_name":"HeUniform","config":{"seed":null}})");
  EXPECT_EQ(initializers::serialize(initializers::VarianceScaling(2.0, "fan_out", "uniform")).dump(),
            R"({"class_name":"VarianceScaling","config":{"scale":2.0,"mode":"fan_out","distribution":"uniform","seed":null}})");
  EXPECT_EQ(initializers::serialize(*initializers::get("truncated_normal")).dump(),
            R"({"class_name":"TruncatedNormal","config":{"mean":0.0,"stddev":0.05,"seed":null}})");
  EXPECT_EQ(initializers::deserialize(Json::parse(R"({"class_name":"RandomUniform","config":{"minval":-1,"maxval":1,"seed":7}})"))
                ->get_config()
                .dump(),
            R"({"minval":-1.0,"maxval":1.0,"seed":7})");
  const std::string known_activations =
      "(known: linear, relu, sigmoid, tanh, softmax, elu, softplus, softsign, swish, gelu, exponential)";
  const std::string known_initializers =
      "(known: constant, glorot_normal, glorot_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform, "
      "normal, one, ones, orthogonal, random_normal, random_uniform, truncated_normal, uniform, variance_scaling, "
      "zero, zeros, or a class name such as GlorotUniform)";
  auto error_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of([] { initializers::get("glorot_unifrom"); }),
            "unknown initializer 'glorot_unifrom' " + known_initializers);
  // The layer is named: by the C++ API and in a config.
  backend::NameScope scope;
  EXPECT_EQ(error_of([] { layers::Dense(DenseOptions(3).name("out").activation("rleu")); }),
            "Dense 'out': unknown activation 'rleu' " + known_activations);
  EXPECT_EQ(error_of([] { layers::Conv2D(Conv2DOptions(4, 3).activation("rleu")); }),
            "Conv2D 'conv2d': unknown activation 'rleu' " + known_activations);
  EXPECT_EQ(error_of([] {
              model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
                  {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "rleu"}}]}})");
            }),
            "Dense 'd': unknown activation 'rleu' " + known_activations);
  EXPECT_EQ(error_of([] {
              model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
                  {"class_name": "Dense", "config": {"name": "d", "units": 2,
                   "kernel_initializer": {"class_name": "GlorotUnifrom", "config": {}}}}]}})");
            }),
            "layer 'd' kernel_initializer: unknown initializer class 'GlorotUnifrom' (known: Constant, GlorotNormal, "
            "GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, "
            "RandomUniform, TruncatedNormal, VarianceScaling, Zeros)");
}

TEST(KerasInitializers, GlobalSeedMakesWeightsReproducible) {
  auto draw = [] {
    backend::NameScope scope;
    utils::set_random_seed(123);
    layers::Dense a(5), b(5);
    a.maybe_build(Shape{-1, 4});
    b.maybe_build(Shape{-1, 4});
    return std::make_pair(a.kernel().value().clone(), b.kernel().value().clone());
  };
  const auto first = draw(), second = draw();
  EXPECT_TRUE(first.first.equal(second.first));
  EXPECT_TRUE(first.second.equal(second.second));
  EXPECT_FALSE(first.first.equal(first.second));  // two layers draw different weights
  utils::set_random_seed(124);
  layers::Dense c(5);
  c.maybe_build(Shape{-1, 4});
  EXPECT_FALSE(c.kernel().value().equal(first.first));
}
