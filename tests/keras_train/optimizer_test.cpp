// Each optimizer against a hand-written reference of Keras 2.11's update formula, over several steps.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/keras/optimizers.h"

using namespace keel;
using namespace keel::keras;

namespace {

// Gradient of step s (1-based) for element i: varied signs and magnitudes, deterministic.
double grad_at(int s, int64_t i) { return std::sin(0.7 * s + 1.3 * static_cast<double>(i)) * (1.0 + 0.25 * i); }

// A reference step: params p, slots (by name), grads g (already clipped), lr, step t.
using RefStep = std::function<void(std::vector<double>& p, std::map<std::string, std::vector<double>>& slots,
                                   const std::vector<double>& g, double lr, int t)>;

template <class T>
void run_against_reference(Optimizer& opt, const RefStep& ref, std::map<std::string, double> slot_init, int steps,
                           double tol) {
  const int64_t n = 7;
  std::vector<T> init;
  for (int64_t i = 0; i < n; ++i) init.push_back(static_cast<T>(0.5 - 0.2 * static_cast<double>(i)));
  Variable var("w", Tensor::from_vector<T>(init, {n}));
  std::vector<double> p(init.begin(), init.end());
  std::map<std::string, std::vector<double>> slots;
  for (const auto& [k, v] : slot_init) slots[k] = std::vector<double>(n, v);
  const double lr = static_cast<double>(static_cast<float>(opt.learning_rate()));
  for (int s = 1; s <= steps; ++s) {
    std::vector<T> g;
    for (int64_t i = 0; i < n; ++i) g.push_back(static_cast<T>(grad_at(s, i)));
    opt.apply_gradients({Tensor::from_vector<T>(g, {n})}, {var});
    ref(p, slots, std::vector<double>(g.begin(), g.end()), lr, s);
    EXPECT_EQ(opt.iterations_value(), s);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(var.value().template at<double>({i}), p[static_cast<size_t>(i)],
                  tol * std::max(1.0, std::abs(p[static_cast<size_t>(i)])))
          << "step " << s << " element " << i;
  }
  for (const auto& [name, values] : slots) {
    Variable slot = opt.get_slot(var, name);
    ASSERT_TRUE(slot.defined()) << name;
    for (int64_t i = 0; i < n; ++i)
      EXPECT_NEAR(slot.value().template at<double>({i}), values[static_cast<size_t>(i)],
                  tol * std::max(1.0, std::abs(values[static_cast<size_t>(i)])))
          << name;
  }
}

RefStep sgd_ref(double momentum, bool nesterov) {
  return [=](auto& p, auto& slots, const auto& g, double lr, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      if (momentum == 0) {
        p[i] -= lr * g[i];
        continue;
      }
      double& m = slots["momentum"][i];
      m = momentum * m - lr * g[i];
      p[i] += nesterov ? momentum * m - lr * g[i] : m;
    }
  };
}

RefStep adam_ref(double b1, double b2, double eps, bool amsgrad) {
  return [=](auto& p, auto& slots, const auto& g, double lr, int t) {
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < p.size(); ++i) {
      double& m = slots["m"][i];
      double& v = slots["v"][i];
      m = m + (g[i] - m) * (1 - b1);
      v = v + (g[i] * g[i] - v) * (1 - b2);
      double vv = v;
      if (amsgrad) {
        double& vh = slots["vhat"][i];
        vh = std::max(vh, v);
        vv = vh;
      }
      p[i] -= m * alpha / (std::sqrt(vv) + eps);
    }
  };
}

RefStep rmsprop_ref(double rho, double momentum, double eps, bool centered) {
  return [=](auto& p, auto& slots, const auto& g, double lr, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      double& rms = slots["rms"][i];
      rms = rho * rms + (1 - rho) * g[i] * g[i];
      double denom = rms + eps;
      if (centered) {
        double& mg = slots["mg"][i];
        mg = rho * mg + (1 - rho) * g[i];
        denom = rms - mg * mg + eps;
      }
      const double inc = lr * g[i] / std::sqrt(denom);
      if (momentum > 0) {
        double& mo = slots["momentum"][i];
        mo = momentum * mo + inc;
        p[i] -= mo;
      } else {
        p[i] -= inc;
      }
    }
  };
}

RefStep adagrad_ref(double eps) {
  return [=](auto& p, auto& slots, const auto& g, double lr, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      double& acc = slots["accumulator"][i];
      acc += g[i] * g[i];
      p[i] -= lr * g[i] / std::sqrt(acc + eps);
    }
  };
}

constexpr double kTol64 = 1e-12;
constexpr double kTol32 = 2e-5;

}  // namespace

TEST(Optimizers, KerasDefaults) {
  SGD sgd;
  EXPECT_EQ(sgd.name(), "SGD");
  EXPECT_FLOAT_EQ(sgd.learning_rate(), 0.01f);
  EXPECT_EQ(sgd.momentum(), 0.0);
  EXPECT_FALSE(sgd.nesterov());
  Adam adam;
  EXPECT_EQ(adam.name(), "Adam");
  EXPECT_FLOAT_EQ(adam.learning_rate(), 0.001f);
  EXPECT_EQ(adam.beta_1(), 0.9);
  EXPECT_EQ(adam.beta_2(), 0.999);
  EXPECT_EQ(adam.epsilon(), 1e-7);
  EXPECT_FALSE(adam.amsgrad());
  RMSprop rms;
  EXPECT_EQ(rms.name(), "RMSprop");
  EXPECT_FLOAT_EQ(rms.learning_rate(), 0.001f);
  EXPECT_EQ(rms.rho(), 0.9);
  EXPECT_EQ(rms.momentum(), 0.0);
  EXPECT_EQ(rms.epsilon(), 1e-7);
  EXPECT_FALSE(rms.centered());
  Adagrad ada;
  EXPECT_EQ(ada.name(), "Adagrad");
  EXPECT_FLOAT_EQ(ada.learning_rate(), 0.001f);
  EXPECT_EQ(ada.initial_accumulator_value(), 0.1);
  EXPECT_EQ(ada.epsilon(), 1e-7);
}

TEST(Optimizers, SGDPlainMomentumNesterov) {
  for (bool f64 : {true, false}) {
    for (auto [mom, nest] : std::vector<std::pair<double, bool>>{{0.0, false}, {0.9, false}, {0.9, true}}) {
      SGD opt(SGDOptions().learning_rate(0.1).momentum(mom).nesterov(nest));
      std::map<std::string, double> init;
      if (mom > 0) init["momentum"] = 0;
      if (f64)
        run_against_reference<double>(opt, sgd_ref(mom, nest), init, 5, kTol64);
      else
        run_against_reference<float>(opt, sgd_ref(mom, nest), init, 5, kTol32);
    }
  }
}

TEST(Optimizers, AdamAndAmsgrad) {
  for (bool f64 : {true, false}) {
    for (bool ams : {false, true}) {
      Adam opt(AdamOptions().learning_rate(0.01).amsgrad(ams));
      std::map<std::string, double> init{{"m", 0}, {"v", 0}};
      if (ams) init["vhat"] = 0;
      if (f64)
        run_against_reference<double>(opt, adam_ref(0.9, 0.999, 1e-7, ams), init, 6, kTol64);
      else
        run_against_reference<float>(opt, adam_ref(0.9, 0.999, 1e-7, ams), init, 6, kTol32);
    }
  }
}

TEST(Optimizers, RMSpropVariants) {
  for (bool f64 : {true, false}) {
    for (auto [mom, centered] : std::vector<std::pair<double, bool>>{{0, false}, {0.5, false}, {0, true}, {0.5, true}}) {
      RMSprop opt(RMSpropOptions().learning_rate(0.01).momentum(mom).centered(centered));
      std::map<std::string, double> init{{"rms", 0}};
      if (mom > 0) init["momentum"] = 0;
      if (centered) init["mg"] = 0;
      if (f64)
        run_against_reference<double>(opt, rmsprop_ref(0.9, mom, 1e-7, centered), init, 5, kTol64);
      else
        run_against_reference<float>(opt, rmsprop_ref(0.9, mom, 1e-7, centered), init, 5, kTol32);
    }
  }
}

TEST(Optimizers, Adagrad) {
  Adagrad a64(AdagradOptions().learning_rate(0.05));
  run_against_reference<double>(a64, adagrad_ref(1e-7), {{"accumulator", 0.1}}, 5, kTol64);
  Adagrad a32(AdagradOptions().learning_rate(0.05));
  run_against_reference<float>(a32, adagrad_ref(1e-7), {{"accumulator", 0.1}}, 5, kTol32);
}

TEST(Optimizers, SlotNamesAndTrackedChildren) {
  Variable w("kernel", Tensor::zeros({2, 3}));
  Variable b("bias", Tensor::zeros({3}));
  Adam adam(AdamOptions().amsgrad(true));
  EXPECT_TRUE(adam.slot_variables().empty());  // lazily created
  adam.apply_gradients({Tensor::ones({2, 3}), Tensor::ones({3})}, {w, b});
  auto slots = adam.slot_variables();
  ASSERT_EQ(slots.size(), 6u);
  std::vector<std::string> names;
  for (const auto& s : slots) names.push_back(s.original.name() + ":" + s.slot_name);
  EXPECT_EQ(names, (std::vector<std::string>{"kernel:m", "kernel:v", "kernel:vhat", "bias:m", "bias:v", "bias:vhat"}));
  EXPECT_EQ(slots[0].slot.name(), "Adam/kernel/m");
  EXPECT_EQ(slots[0].slot.shape(), w.shape());
  EXPECT_FALSE(slots[0].slot.trainable());

  std::vector<std::string> children;
  for (const auto& c : adam.trackable_children()) children.push_back(c.name);
  EXPECT_EQ(children, (std::vector<std::string>{"iter", "learning_rate", "beta_1", "beta_2"}));
  EXPECT_EQ(adam.iterations().dtype(), DType::i64);
  EXPECT_EQ(adam.learning_rate_variable().dtype(), DType::f32);

  EXPECT_EQ(SGD(SGDOptions().momentum(0.9)).slot_names(), std::vector<std::string>{"momentum"});
  EXPECT_TRUE(SGD().slot_names().empty());
  EXPECT_EQ(RMSprop(RMSpropOptions().momentum(0.1).centered(true)).slot_names(),
            (std::vector<std::string>{"rms", "momentum", "mg"}));
  EXPECT_EQ(Adagrad().slot_names(), std::vector<std::string>{"accumulator"});
}

TEST(Optimizers, CreateSlotForRestoreThenApplyUsesIt) {
  Variable w("w", Tensor::from_vector<double>({1.0, 2.0}));
  Adam adam;
  Variable m = adam.create_slot_for_restore(w, "m");
  ASSERT_TRUE(m.defined());
  EXPECT_FALSE(adam.create_slot_for_restore(w, "vhat").defined());  // not used without amsgrad
  m.assign(Tensor::from_vector<double>({0.5, -0.5}));
  adam.apply_gradients({Tensor::from_vector<double>({0.0, 0.0})}, {w});
  EXPECT_TRUE(adam.get_slot(w, "m").is(m));
  EXPECT_DOUBLE_EQ(m.value().at<double>({0}), 0.5 * 0.9);
  EXPECT_TRUE(adam.get_slot(w, "v").defined());
  Adagrad ada;
  EXPECT_DOUBLE_EQ(ada.create_slot_for_restore(w, "accumulator").value().at<double>({1}), 0.1);
}

TEST(Optimizers, LearningRateIsASettableVariable) {
  SGD sgd;
  sgd.set_learning_rate(0.5);
  Variable w("w", Tensor::from_vector<double>({1.0}));
  sgd.apply_gradients({Tensor::from_vector<double>({1.0})}, {w});
  EXPECT_DOUBLE_EQ(w.value().at<double>({0}), 0.5);
  EXPECT_EQ(sgd.learning_rate_variable().value().item<float>(), 0.5f);
}

TEST(Optimizers, Clipping) {
  // clipnorm: each gradient rescaled to norm <= 1; global_clipnorm: all together; clipvalue: clamp.
  Variable a("a", Tensor::zeros({2}, DType::f64)), b("b", Tensor::zeros({1}, DType::f64));
  auto ga = Tensor::from_vector<double>({3.0, 4.0});  // norm 5
  auto gb = Tensor::from_vector<double>({12.0});      // norm 12; global norm 13
  SGD(SGDOptions().learning_rate(1).clipnorm(1)).apply_gradients({ga, gb}, {a, b});
  EXPECT_DOUBLE_EQ(a.value().at<double>({0}), -0.6);
  EXPECT_DOUBLE_EQ(a.value().at<double>({1}), -0.8);
  EXPECT_DOUBLE_EQ(b.value().at<double>({0}), -1.0);
  a.assign(Tensor::zeros({2}, DType::f64));
  b.assign(Tensor::zeros({1}, DType::f64));
  SGD(SGDOptions().learning_rate(1).global_clipnorm(1.3)).apply_gradients({ga, gb}, {a, b});
  EXPECT_NEAR(a.value().at<double>({0}), -0.3, 1e-15);
  EXPECT_NEAR(b.value().at<double>({0}), -1.2, 1e-15);
  a.assign(Tensor::zeros({2}, DType::f64));
  SGD(SGDOptions().learning_rate(1).clipvalue(3.5)).apply_gradients({ga, Tensor()}, {a, b});
  EXPECT_DOUBLE_EQ(a.value().at<double>({0}), -3.0);
  EXPECT_DOUBLE_EQ(a.value().at<double>({1}), -3.5);
  // A norm below the threshold is left alone.
  a.assign(Tensor::zeros({2}, DType::f64));
  SGD(SGDOptions().learning_rate(1).clipnorm(10)).apply_gradients({ga}, {a});
  EXPECT_DOUBLE_EQ(a.value().at<double>({1}), -4.0);
}

TEST(Optimizers, WeightDecay) {
  Variable w("w", Tensor::from_vector<double>({2.0}));
  SGD(SGDOptions().learning_rate(0.1).weight_decay(0.5)).apply_gradients({Tensor::from_vector<double>({1.0})}, {w});
  const double lr = static_cast<float>(0.1);
  EXPECT_NEAR(w.value().at<double>({0}), 2.0 - 2.0 * 0.5 * lr - lr, 1e-15);
}

TEST(Optimizers, LargeVariableUsesAllChunks) {
  // More than one parallel chunk: every element must be updated exactly once.
  const int64_t n = 100003;
  Variable w("w", Tensor::zeros({n}));
  SGD(SGDOptions().learning_rate(1)).apply_gradients({Tensor::ones({n})}, {w});
  const float* p = w.value().data<float>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(p[i], -1.0f) << i;
}

TEST(Optimizers, Errors) {
  Variable w("kernel", Tensor::zeros({2, 3}));
  Adam adam;
  try {
    adam.apply_gradients({Tensor::zeros({3, 2})}, {w});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Adam: variable 'kernel' is [2,3] f32, its gradient is [3,2] f32");
  }
  try {
    adam.apply_gradients({Tensor()}, {w});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Adam: no gradients provided for any variable: [kernel]");
  }
  try {
    adam.apply_gradients({}, {w});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Adam: apply_gradients: 0 gradients for 1 variables");
  }
  EXPECT_THROW(SGD(SGDOptions().momentum(1.5)), Error);
  try {
    SGD(SGDOptions().clipnorm(1).global_clipnorm(1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "SGD: at most one of clipnorm and global_clipnorm can be set, got clipnorm=1, global_clipnorm=1");
  }
  EXPECT_EQ(adam.iterations_value(), 0);  // failed calls do not count
}

TEST(Optimizers, ConfigRoundTripAndRegistry) {
  Adam adam(AdamOptions().learning_rate(0.002).beta_1(0.8).amsgrad(true).clipnorm(0.5).name("my_adam"));
  auto cfg = adam.get_config();
  EXPECT_EQ(cfg["name"], "my_adam");
  EXPECT_EQ(cfg["learning_rate"].get<double>(), static_cast<double>(0.002f));  // Keras: the f32 variable
  EXPECT_EQ(cfg["beta_1"].get<double>(), 0.8);
  EXPECT_EQ(cfg["epsilon"].get<double>(), 1e-7);
  EXPECT_EQ(cfg["amsgrad"], true);
  EXPECT_EQ(cfg["clipnorm"].get<double>(), 0.5);
  EXPECT_TRUE(cfg["clipvalue"].is_null());
  EXPECT_EQ(cfg["is_legacy_optimizer"], false);
  auto again = optimizer_from_config(serialize_optimizer(adam));
  EXPECT_EQ(again->class_name(), "Adam");
  EXPECT_EQ(again->get_config(), cfg);

  for (std::string n : {"Adam", "adam", "SGD", "sgd", "RMSprop", "rmsprop", "Adagrad", "adagrad"}) {
    auto opt = optimizer_from_name(n);
    std::string lower_name = opt->class_name();
    for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string lower_n = n;
    for (auto& c : lower_n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(lower_name, lower_n);
    EXPECT_EQ(optimizer_from_config({{"class_name", opt->class_name()}, {"config", opt->get_config()}})->get_config(),
              opt->get_config());
  }
  // A real Keras 2.15 training_config optimizer entry.
  auto real = nlohmann::json::parse(R"({"class_name": "Custom>Adam", "config": {"name": "Adam", "weight_decay": null,
      "clipnorm": null, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
      "ema_overwrite_frequency": null, "jit_compile": false, "is_legacy_optimizer": false,
      "learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}})");
  auto from_real = optimizer_from_config(real);
  EXPECT_EQ(from_real->get_config(), real["config"]);

  try {
    optimizer_from_name("adamw2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "optimizer 'adamw2' is not registered (known: Adagrad, Adam, RMSprop, SGD)");
  }
  try {
    optimizer_from_config({{"class_name", "SGD"}, {"config", {{"momentun", 0.9}}}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "SGD: unknown config key 'momentun'");
  }
  register_optimizer("MySGD", [](const nlohmann::json& c) {
    auto o = SGD::from_config(c);
    return std::shared_ptr<Optimizer>(o);
  });
  EXPECT_EQ(optimizer_from_name("mysgd")->class_name(), "SGD");
}
