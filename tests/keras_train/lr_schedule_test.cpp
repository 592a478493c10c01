// Learning-rate schedules (keras.optimizers.schedules): each formula against Keras 2.11's, written out
// here in double, at step 0, at the boundaries and past decay_steps; optimizer steps with a schedule
// against a hand-computed update; set_learning_rate; config round trips (keel's and Keras-written
// configs, a user-registered schedule); and the exact error for each bad config.
#include <gtest/gtest.h>

#include <cmath>

#include "error_of.h"
#include "keel/graph/error.h"
#include "keel/keras/optimizers.h"

using namespace keel;
using namespace keel::keras;
using keel::test::error_of;

namespace {

const double kPi = std::acos(-1.0);

// Keras 2.11's formulas, as learning_rate_schedule.py writes them, in double.
double exponential(double lr0, double ds, double rate, bool staircase, double s) {
  double p = s / ds;
  if (staircase) p = std::floor(p);
  return lr0 * std::pow(rate, p);
}
double polynomial(double lr0, double ds, double end, double power, bool cycle, double s) {
  if (cycle) {
    ds = ds * (s == 0 ? 1.0 : std::ceil(s / ds));
  } else {
    s = std::min(s, ds);
  }
  return (lr0 - end) * std::pow(1 - s / ds, power) + end;
}
double inverse_time(double lr0, double ds, double rate, bool staircase, double s) {
  double p = s / ds;
  if (staircase) p = std::floor(p);
  return lr0 / (1 + rate * p);
}
double cosine(double lr0, double ds, double alpha, double s) {
  s = std::min(s, ds);
  return lr0 * ((1 - alpha) * 0.5 * (1 + std::cos(kPi * s / ds)) + alpha);
}
double cosine_restarts(double lr0, double first, double t_mul, double m_mul, double alpha, double s) {
  double f = s / first, i;
  if (t_mul == 1.0) {
    i = std::floor(f);
    f -= i;
  } else {
    i = std::floor(std::log(1 - f * (1 - t_mul)) / std::log(t_mul));
    f = (f - (1 - std::pow(t_mul, i)) / (1 - t_mul)) / std::pow(t_mul, i);
  }
  return lr0 * ((1 - alpha) * 0.5 * std::pow(m_mul, i) * (1 + std::cos(kPi * f)) + alpha);
}

const std::vector<int64_t> kSteps = {0, 1, 5, 9, 10, 11, 15, 19, 20, 21, 30, 70, 150, 1000};

}  // namespace

TEST(LearningRateSchedule, ExponentialDecay) {
  ExponentialDecay smooth(0.1, 10, 0.5);
  auto stairs = ExponentialDecay(0.1, 10, 0.5).staircase(true);
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_DOUBLE_EQ(smooth(10), 0.05);
  EXPECT_DOUBLE_EQ(smooth(20), 0.025);
  EXPECT_DOUBLE_EQ(smooth(5), 0.1 / std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(stairs(9), 0.1);
  EXPECT_DOUBLE_EQ(stairs(15), 0.05);
  EXPECT_DOUBLE_EQ(stairs(20), 0.025);
  ExponentialDecay fractional(1e-3, 2.5, 0.9);
  for (int64_t s : kSteps) {
    EXPECT_DOUBLE_EQ(smooth(s), exponential(0.1, 10, 0.5, false, static_cast<double>(s))) << s;
    EXPECT_DOUBLE_EQ(stairs(s), exponential(0.1, 10, 0.5, true, static_cast<double>(s))) << s;
    EXPECT_DOUBLE_EQ(fractional(s), exponential(1e-3, 2.5, 0.9, false, static_cast<double>(s))) << s;
  }
}

TEST(LearningRateSchedule, PiecewiseConstantDecayBoundaryBelongsToTheIntervalBelow) {
  PiecewiseConstantDecay p({10, 20}, {1.0, 0.5, 0.1});
  const std::vector<std::pair<int64_t, double>> want = {{0, 1.0},  {9, 1.0},  {10, 1.0},  {11, 0.5},
                                                        {19, 0.5}, {20, 0.5}, {21, 0.1}, {1000, 0.1}};
  for (const auto& [s, v] : want) EXPECT_EQ(p(s), v) << s;
  PiecewiseConstantDecay one({0}, {0.3, 0.2});
  EXPECT_EQ(one(0), 0.3);
  EXPECT_EQ(one(1), 0.2);
}

TEST(LearningRateSchedule, PolynomialDecay) {
  PolynomialDecay linear(0.1, 10);
  linear.end_learning_rate(0.01);
  EXPECT_DOUBLE_EQ(linear(0), 0.1);
  EXPECT_DOUBLE_EQ(linear(5), 0.055);
  EXPECT_DOUBLE_EQ(linear(10), 0.01);
  EXPECT_DOUBLE_EQ(linear(20), 0.01);
  auto cyc = PolynomialDecay(0.1, 10).end_learning_rate(0.01).cycle(true);
  EXPECT_DOUBLE_EQ(cyc(0), 0.1);
  EXPECT_DOUBLE_EQ(cyc(10), 0.01);      // decay_steps * ceil(10 / 10)
  EXPECT_DOUBLE_EQ(cyc(11), 0.0505);    // over 20 steps: 0.09 * (1 - 11/20) + 0.01
  EXPECT_DOUBLE_EQ(cyc(15), 0.0325);
  auto sqrt_decay = PolynomialDecay(0.1, 10).power(0.5);  // default end_learning_rate 1e-4
  auto sqrt_cycle = PolynomialDecay(0.1, 10).power(0.5).cycle(true);
  EXPECT_DOUBLE_EQ(sqrt_decay(10), 0.0001);
  for (int64_t s : kSteps) {
    const double d = static_cast<double>(s);
    EXPECT_DOUBLE_EQ(linear(s), polynomial(0.1, 10, 0.01, 1.0, false, d)) << s;
    EXPECT_DOUBLE_EQ(cyc(s), polynomial(0.1, 10, 0.01, 1.0, true, d)) << s;
    EXPECT_DOUBLE_EQ(sqrt_decay(s), polynomial(0.1, 10, 0.0001, 0.5, false, d)) << s;
    EXPECT_DOUBLE_EQ(sqrt_cycle(s), polynomial(0.1, 10, 0.0001, 0.5, true, d)) << s;
  }
}

TEST(LearningRateSchedule, InverseTimeDecay) {
  InverseTimeDecay smooth(0.1, 10, 0.5);
  auto stairs = InverseTimeDecay(0.1, 10, 0.5).staircase(true);
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_DOUBLE_EQ(smooth(10), 0.1 / 1.5);
  EXPECT_DOUBLE_EQ(smooth(5), 0.08);
  EXPECT_DOUBLE_EQ(stairs(15), 0.1 / 1.5);
  EXPECT_DOUBLE_EQ(stairs(20), 0.05);
  for (int64_t s : kSteps) {
    EXPECT_DOUBLE_EQ(smooth(s), inverse_time(0.1, 10, 0.5, false, static_cast<double>(s))) << s;
    EXPECT_DOUBLE_EQ(stairs(s), inverse_time(0.1, 10, 0.5, true, static_cast<double>(s))) << s;
  }
}

TEST(LearningRateSchedule, CosineDecay) {
  CosineDecay plain(0.1, 10);
  auto floor = CosineDecay(0.1, 10).alpha(0.1);
  EXPECT_DOUBLE_EQ(plain(0), 0.1);
  EXPECT_DOUBLE_EQ(plain(5), 0.05);
  EXPECT_NEAR(plain(10), 0.0, 1e-18);
  EXPECT_NEAR(plain(100), 0.0, 1e-18);
  EXPECT_DOUBLE_EQ(floor(5), 0.055);
  EXPECT_DOUBLE_EQ(floor(10), 0.01);
  EXPECT_DOUBLE_EQ(floor(1000), 0.01);
  for (int64_t s : kSteps) {
    EXPECT_DOUBLE_EQ(plain(s) + 1, cosine(0.1, 10, 0.0, static_cast<double>(s)) + 1) << s;
    EXPECT_DOUBLE_EQ(floor(s), cosine(0.1, 10, 0.1, static_cast<double>(s))) << s;
  }
}

TEST(LearningRateSchedule, CosineDecayRestarts) {
  auto r = CosineDecayRestarts(1.0, 10).m_mul(0.5);  // periods of 10, 20, 40, ... steps
  EXPECT_DOUBLE_EQ(r(0), 1.0);
  EXPECT_DOUBLE_EQ(r(5), 0.5);
  EXPECT_DOUBLE_EQ(r(10), 0.5);   // restart 1 at m_mul
  EXPECT_DOUBLE_EQ(r(20), 0.25);  // halfway through the 20-step period
  EXPECT_DOUBLE_EQ(r(30), 0.25);  // restart 2 at m_mul^2
  EXPECT_DOUBLE_EQ(r(70), 0.125);
  auto even = CosineDecayRestarts(0.2, 10).t_mul(1.0).alpha(0.25);
  EXPECT_DOUBLE_EQ(even(25), 0.2 * (0.75 * 0.5 + 0.25));
  EXPECT_DOUBLE_EQ(even(30), 0.2);
  CosineDecayRestarts defaults(0.1, 7);
  auto grown = CosineDecayRestarts(0.1, 7).t_mul(3.0).m_mul(0.9).alpha(0.05);
  for (int64_t s : kSteps) {
    const double d = static_cast<double>(s);
    EXPECT_DOUBLE_EQ(r(s) + 1, cosine_restarts(1.0, 10, 2.0, 0.5, 0.0, d) + 1) << s;
    EXPECT_DOUBLE_EQ(even(s), cosine_restarts(0.2, 10, 1.0, 1.0, 0.25, d)) << s;
    EXPECT_DOUBLE_EQ(defaults(s) + 1, cosine_restarts(0.1, 7, 2.0, 1.0, 0.0, d) + 1) << s;
    EXPECT_DOUBLE_EQ(grown(s), cosine_restarts(0.1, 7, 3.0, 0.9, 0.05, d)) << s;
  }
}

// SGD without momentum on exactly representable numbers: var -= lr * g with lr = schedule(iterations)
// before the increment, bit for bit.
TEST(LearningRateScheduleOptimizer, SGDStepUsesScheduleAtCurrentIterations) {
  SGD sgd(SGDOptions().learning_rate(PiecewiseConstantDecay({1, 3}, {0.5, 0.25, 0.125})));
  ASSERT_NE(sgd.learning_rate_schedule(), nullptr);
  EXPECT_EQ(sgd.learning_rate(), 0.5);  // schedule(0) before any step
  Variable w("w", Tensor::from_vector<float>({1.0f, -2.0f}, {2}));
  std::vector<float> want = {1.0f, -2.0f};
  const std::vector<float> lr_at = {0.5f, 0.5f, 0.25f, 0.25f, 0.125f, 0.125f};
  for (int k = 0; k < 6; ++k) {
    const float g0 = 1.0f, g1 = -0.5f * static_cast<float>(k + 1);
    sgd.apply_gradients({Tensor::from_vector<float>({g0, g1}, {2})}, {w});
    want[0] -= lr_at[static_cast<size_t>(k)] * g0;
    want[1] -= lr_at[static_cast<size_t>(k)] * g1;
    EXPECT_EQ(w.value().at<float>({0}), want[0]) << "step " << k;
    EXPECT_EQ(w.value().at<float>({1}), want[1]) << "step " << k;
    EXPECT_EQ(sgd.learning_rate(), lr_at[static_cast<size_t>(k)]) << "step " << k;
    EXPECT_EQ(sgd.learning_rate_variable().value().dtype(), DType::f32);
  }
}

// Adam with ExponentialDecay against the update written out in double, lr = float32(schedule(k)).
TEST(LearningRateScheduleOptimizer, AdamStepMatchesHandComputedUpdate) {
  auto schedule = std::make_shared<ExponentialDecay>(0.01, 3, 0.5);
  Adam adam(AdamOptions().learning_rate(schedule));
  EXPECT_EQ(adam.learning_rate_schedule(), schedule);  // a shared_ptr is kept, not copied
  const int64_t n = 5;
  std::vector<double> p(n), m(n, 0.0), v(n, 0.0);
  std::vector<float> init;
  for (int64_t i = 0; i < n; ++i) init.push_back(static_cast<float>(0.3 - 0.1 * static_cast<double>(i)));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = init[static_cast<size_t>(i)];
  Variable w("w", Tensor::from_vector<float>(init, {n}));
  const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
  for (int k = 0; k < 8; ++k) {
    std::vector<float> g;
    for (int64_t i = 0; i < n; ++i) g.push_back(static_cast<float>(std::sin(0.9 * k + 1.7 * static_cast<double>(i))));
    adam.apply_gradients({Tensor::from_vector<float>(g, {n})}, {w});
    const double lr = static_cast<float>(0.01 * std::pow(0.5, k / 3.0));
    const double t = k + 1;
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (static_cast<double>(g[i]) * g[i] - v[i]) * (1 - b2);
      p[i] -= m[i] * alpha / (std::sqrt(v[i]) + eps);
      EXPECT_NEAR(w.value().at<double>({static_cast<int64_t>(i)}), p[i], 1e-6) << "step " << k << " element " << i;
    }
    EXPECT_EQ(adam.learning_rate(), static_cast<double>(static_cast<float>((*schedule)(k)))) << "step " << k;
  }
  // The same optimizer with the constant schedule(0) would have moved differently.
  EXPECT_NE(adam.learning_rate(), static_cast<double>(static_cast<float>(0.01)));
}

TEST(LearningRateScheduleOptimizer, SetLearningRateIsAnErrorNamingTheOptimizer) {
  Adam adam(AdamOptions().name("my_adam").learning_rate(CosineDecay(0.1, 100)));
  EXPECT_EQ(error_of([&] { adam.set_learning_rate(0.5); }),
            "my_adam: this optimizer was created with a LearningRateSchedule (CosineDecay) as its learning_rate, "
            "hence its learning rate is not settable; create it with a float learning_rate to set it");
  SGD constant(SGDOptions().learning_rate(0.1));
  constant.set_learning_rate(0.25);
  EXPECT_EQ(constant.learning_rate(), 0.25);
  EXPECT_EQ(constant.learning_rate_schedule(), nullptr);
}

TEST(LearningRateScheduleConfig, OptimizerConfigHoldsScheduleAsKerasSerializesIt) {
  Adam adam(AdamOptions().learning_rate(ExponentialDecay(1e-3, 1000, 0.9).staircase(true)));
  const nlohmann::json lr = adam.get_config()["learning_rate"];
  EXPECT_EQ(lr, nlohmann::json::parse(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.001,
      "decay_steps": 1000, "decay_rate": 0.9, "staircase": true, "name": null}})"));
  EXPECT_TRUE(lr["config"]["decay_steps"].is_number_integer());  // Python's 1000, not 1000.0

  auto again = optimizer_from_config(serialize_optimizer(adam));
  ASSERT_NE(again->learning_rate_schedule(), nullptr);
  EXPECT_EQ(again->learning_rate_schedule()->class_name(), "ExponentialDecay");
  EXPECT_EQ(again->get_config(), adam.get_config());
}

TEST(LearningRateScheduleConfig, EveryScheduleRoundTrips) {
  std::vector<std::shared_ptr<LearningRateSchedule>> all = {
      std::make_shared<ExponentialDecay>(ExponentialDecay(0.1, 7, 0.96).staircase(true).name("exp")),
      std::make_shared<PiecewiseConstantDecay>(std::vector<int64_t>{100, 200}, std::vector<double>{0.1, 0.01, 0.001}),
      std::make_shared<PolynomialDecay>(PolynomialDecay(0.1, 2.5).end_learning_rate(0.01).power(0.5).cycle(true)),
      std::make_shared<InverseTimeDecay>(0.1, 1, 0.5),
      std::make_shared<CosineDecay>(CosineDecay(0.1, 1000).alpha(0.01)),
      std::make_shared<CosineDecayRestarts>(CosineDecayRestarts(0.1, 100).t_mul(1.5).m_mul(0.8).alpha(0.02))};
  for (const auto& s : all) {
    SCOPED_TRACE(s->class_name());
    const nlohmann::json j = serialize_learning_rate_schedule(*s);
    EXPECT_EQ(j["class_name"], s->class_name());
    auto back = learning_rate_schedule_from_config(j);
    EXPECT_EQ(back->class_name(), s->class_name());
    EXPECT_EQ(back->get_config(), s->get_config());
    for (int64_t step : kSteps) EXPECT_EQ((*back)(step), (*s)(step)) << step;
    // Through each optimizer's config.
    for (const char* cls : {"SGD", "Adam", "RMSprop", "Adagrad"}) {
      auto opt = optimizer_from_config({{"class_name", cls}, {"config", {{"learning_rate", j}}}});
      ASSERT_NE(opt->learning_rate_schedule(), nullptr) << cls;
      EXPECT_EQ(opt->get_config()["learning_rate"], j) << cls;
      EXPECT_EQ(optimizer_from_config(serialize_optimizer(*opt))->get_config(), opt->get_config()) << cls;
    }
  }
  EXPECT_EQ(all[0]->get_config()["name"], "exp");
  EXPECT_TRUE(all[1]->get_config()["name"].is_null());
  EXPECT_EQ(all[2]->get_config()["decay_steps"], 2.5);
}

// Configs as Keras 2.11 writes them (the docstring's PolynomialDecay; Keras 2.13 adds module and
// registered_name).
TEST(LearningRateScheduleConfig, ReadsKerasWrittenConfigs) {
  const auto spec = nlohmann::json::parse(R"({"class_name": "SGD", "config": {"name": "SGD", "weight_decay": null,
      "clipnorm": null, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
      "ema_overwrite_frequency": null, "jit_compile": false, "is_legacy_optimizer": false,
      "learning_rate": {"class_name": "PolynomialDecay", "config": {"cycle": false, "decay_steps": 10000,
        "end_learning_rate": 0.01, "initial_learning_rate": 0.1, "name": null, "power": 0.5}},
      "momentum": 0.0, "nesterov": false}})");
  auto sgd = optimizer_from_config(spec);
  ASSERT_NE(sgd->learning_rate_schedule(), nullptr);
  const auto& poly = dynamic_cast<const PolynomialDecay&>(*sgd->learning_rate_schedule());
  EXPECT_EQ(poly.initial_learning_rate(), 0.1);
  EXPECT_EQ(poly.decay_steps(), 10000);
  EXPECT_EQ(poly.end_learning_rate(), 0.01);
  EXPECT_EQ(poly.power(), 0.5);
  EXPECT_FALSE(poly.cycle());
  EXPECT_EQ(sgd->get_config(), spec["config"]);

  auto restarts = learning_rate_schedule_from_config(nlohmann::json::parse(
      R"({"module": "keras.optimizers.schedules", "class_name": "CosineDecayRestarts", "config":
          {"initial_learning_rate": 0.05, "first_decay_steps": 20, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0,
           "name": "SGDR"}, "registered_name": null})"));
  EXPECT_EQ(restarts->name().value_or(""), "SGDR");
  EXPECT_DOUBLE_EQ((*restarts)(10), 0.025);
  // Defaults of the optional arguments.
  auto minimal = learning_rate_schedule_from_config(
      {{"class_name", "PolynomialDecay"}, {"config", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}}}});
  EXPECT_EQ(minimal->get_config(), nlohmann::json::parse(R"({"initial_learning_rate": 0.1, "decay_steps": 10,
      "end_learning_rate": 0.0001, "power": 1.0, "cycle": false, "name": null})"));
}

namespace {
// Keras's docstring example of a user schedule: initial_learning_rate / (step + 1).
class OneOverStep : public LearningRateSchedule {
 public:
  explicit OneOverStep(double lr0) : lr0_(lr0) {}
  double operator()(int64_t step) const override { return lr0_ / static_cast<double>(step + 1); }
  std::string class_name() const override { return "OneOverStep"; }
  nlohmann::json get_config() const override { return {{"initial_learning_rate", lr0_}}; }

 private:
  double lr0_;
};
}  // namespace

TEST(LearningRateScheduleConfig, UserRegisteredSchedule) {
  register_learning_rate_schedule("OneOverStep", [](const nlohmann::json& c) {
    return std::make_shared<OneOverStep>(c.at("initial_learning_rate").get<double>());
  });
  SGD sgd(SGDOptions().learning_rate(OneOverStep(0.5)));
  Variable w("w", Tensor::from_vector<float>({0.0f}, {1}));
  for (int k = 0; k < 3; ++k) sgd.apply_gradients({Tensor::from_vector<float>({1.0f}, {1})}, {w});
  EXPECT_EQ(sgd.learning_rate(), static_cast<double>(static_cast<float>(0.5 / 3)));
  auto again = optimizer_from_config(serialize_optimizer(sgd));
  ASSERT_NE(again->learning_rate_schedule(), nullptr);
  EXPECT_EQ(again->learning_rate_schedule()->class_name(), "OneOverStep");
  EXPECT_EQ((*again->learning_rate_schedule())(4), 0.1);
}

TEST(LearningRateScheduleConfig, BadConfigsNameTheScheduleAndKey) {
  auto from = [](const char* json) { return [json] { learning_rate_schedule_from_config(nlohmann::json::parse(json)); }; };
  const std::string unknown = error_of(from(R"({"class_name": "StepDecay", "config": {}})"));
  EXPECT_EQ(unknown.rfind("learning rate schedule 'StepDecay' is not registered (known: ", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("CosineDecayRestarts, ExponentialDecay, InverseTimeDecay"), std::string::npos) << unknown;
  EXPECT_EQ(error_of(from(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_steps": 10}})")),
            "ExponentialDecay: config lacks 'decay_rate'");
  EXPECT_EQ(error_of(from(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_steps": 10, "decay_rate": "0.9"}})")),
            "ExponentialDecay: config 'decay_rate' must be a number, got \"0.9\"");
  EXPECT_EQ(error_of(from(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_step": 10, "decay_rate": 0.9}})")),
            "ExponentialDecay: unknown config key 'decay_step'");
  EXPECT_EQ(error_of(from(R"({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_steps": 0, "decay_rate": 0.9}})")),
            "ExponentialDecay: 'decay_steps' must be positive, got 0");
  EXPECT_EQ(error_of(from(R"({"class_name": "PolynomialDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_steps": -3}})")),
            "PolynomialDecay: 'decay_steps' must be positive, got -3");
  EXPECT_EQ(error_of(from(R"({"class_name": "InverseTimeDecay", "config": {"initial_learning_rate": 0.1,
                              "decay_steps": 0, "decay_rate": 0.5}})")),
            "InverseTimeDecay: 'decay_steps' must be positive, got 0");
  EXPECT_EQ(error_of(from(R"({"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1}})")),
            "CosineDecay: config lacks 'decay_steps'");
  EXPECT_EQ(error_of(from(R"({"class_name": "CosineDecayRestarts", "config": {"initial_learning_rate": 0.1,
                              "first_decay_steps": 0}})")),
            "CosineDecayRestarts: 'first_decay_steps' must be positive, got 0");
  EXPECT_EQ(error_of(from(R"({"class_name": "CosineDecayRestarts", "config": {"initial_learning_rate": 0.1,
                              "first_decay_steps": 10, "t_mul": 0}})")),
            "CosineDecayRestarts: 't_mul' must be positive, got 0");
  EXPECT_EQ(error_of(from(R"({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 20],
                              "values": [1.0, 0.5]}})")),
            "PiecewiseConstantDecay: 'values' must have one more element than 'boundaries', got 2 boundaries and 2 values");
  EXPECT_EQ(error_of(from(R"({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 10],
                              "values": [1.0, 0.5, 0.1]}})")),
            "PiecewiseConstantDecay: 'boundaries' must be strictly increasing, got boundaries[0] = 10 and "
            "boundaries[1] = 10");
  EXPECT_EQ(error_of(from(R"({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10.5],
                              "values": [1.0, 0.5]}})")),
            "PiecewiseConstantDecay: config 'boundaries[0]' must be a whole step number, got 10.5");
  EXPECT_EQ(error_of(from(R"({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [],
                              "values": [1.0]}})")),
            "PiecewiseConstantDecay: 'boundaries' is empty; it needs at least one boundary");
  EXPECT_EQ(error_of(from(R"({"class_name": "PiecewiseConstantDecay", "config": {"values": [1.0]}})")),
            "PiecewiseConstantDecay: config lacks 'boundaries'");
  // Through an optimizer's config: the optimizer, then the schedule and key.
  EXPECT_EQ(error_of([] {
              optimizer_from_config(nlohmann::json::parse(R"({"class_name": "Adam", "config": {"learning_rate":
                  {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": -5}}}})"));
            }),
            "Adam: config 'learning_rate': CosineDecay: 'decay_steps' must be positive, got -5");
  EXPECT_EQ(error_of([] { optimizer_from_config({{"class_name", "SGD"}, {"config", {{"learning_rate", "fast"}}}}); }),
            "SGD: config 'learning_rate' must be a number or a serialized LearningRateSchedule, got \"fast\"");
  // The C++ constructors check the same.
  EXPECT_EQ(error_of([] { ExponentialDecay(0.1, 0, 0.9); }), "ExponentialDecay: 'decay_steps' must be positive, got 0");
  EXPECT_EQ(error_of([] { PiecewiseConstantDecay({5, 3}, {1, 2, 3}); }),
            "PiecewiseConstantDecay: 'boundaries' must be strictly increasing, got boundaries[0] = 5 and boundaries[1] = 3");
  EXPECT_THROW(Adam(AdamOptions().learning_rate(std::shared_ptr<LearningRateSchedule>())), Error);
}
