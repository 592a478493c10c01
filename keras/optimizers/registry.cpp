// Optimizer registry and Keras config parsing.
#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "keel/graph/error.h"
#include "keel/keras/optimizers/adagrad.h"
#include "keel/keras/optimizers/adam.h"
#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/optimizers/rmsprop.h"
#include "keel/keras/optimizers/sgd.h"

namespace keel::keras {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::pair<std::string, OptimizerFactory>> by_lower;  // lower name -> (class, factory)
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    auto add = [&](const std::string& cls, OptimizerFactory f) { reg->by_lower[lower(cls)] = {cls, std::move(f)}; };
    add("SGD", [](const nlohmann::json& c) { return SGD::from_config(c); });
    add("Adam", [](const nlohmann::json& c) { return Adam::from_config(c); });
    add("RMSprop", [](const nlohmann::json& c) { return RMSprop::from_config(c); });
    add("Adagrad", [](const nlohmann::json& c) { return Adagrad::from_config(c); });
    return reg;
  }();
  return *r;
}

std::pair<std::string, OptimizerFactory> lookup(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.by_lower.find(lower(name));
  if (it == r.by_lower.end()) {
    std::string known;
    for (const auto& [k, v] : r.by_lower) known += (known.empty() ? "" : ", ") + v.first;
    KEEL_FAIL("optimizer '", name, "' is not registered (known: ", known, ")");
  }
  return it->second;
}

const char* json_type(const nlohmann::json& j) { return j.type_name(); }

}  // namespace

void register_optimizer(const std::string& class_name, OptimizerFactory factory) {
  KEEL_CHECK(!class_name.empty() && factory, "register_optimizer: empty class name or factory");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_lower[lower(class_name)] = {class_name, std::move(factory)};
}

std::shared_ptr<Optimizer> optimizer_from_name(const std::string& name) {
  return lookup(name).second(nlohmann::json::object());
}

std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& spec) {
  if (spec.is_string()) return optimizer_from_name(spec.get<std::string>());
  KEEL_CHECK(spec.is_object() && spec.contains("class_name") && spec["class_name"].is_string(),
             "optimizer_from_config: expected {\"class_name\": ..., \"config\": {...}}, got ", spec.dump());
  std::string cls = spec["class_name"].get<std::string>();
  // Keras 2.11+ h5 files may say "Custom>Adam" for built-in optimizers.
  if (cls.rfind("Custom>", 0) == 0) cls = cls.substr(7);
  const nlohmann::json config = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  return lookup(cls).second(config);
}

nlohmann::json serialize_optimizer(const Optimizer& opt) {
  return {{"class_name", opt.class_name()}, {"config", opt.get_config()}};
}

namespace detail {

void check_config_keys(const nlohmann::json& config, const std::string& class_name,
                       const std::vector<std::string>& own_keys) {
  KEEL_CHECK(config.is_object(), class_name, ": config must be a JSON object, got ", json_type(config));
  static const std::vector<std::string> base = {
      "name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
      "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer", "decay"};
  for (const auto& item : config.items()) {
    const std::string& key = item.key();
    const bool known = std::find(base.begin(), base.end(), key) != base.end() ||
                       std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end();
    KEEL_CHECK(known, class_name, ": unknown config key '", key, "'");
  }
  if (config.contains("decay") && !config["decay"].is_null()) {
    KEEL_CHECK(config["decay"].is_number() && config["decay"].get<double>() == 0.0, class_name,
               ": config 'decay' = ", config["decay"].dump(),
               " (legacy learning-rate decay) is not supported; only 0");
  }
  if (config.contains("use_ema") && !config["use_ema"].is_null()) {
    KEEL_CHECK(config["use_ema"].is_boolean() && !config["use_ema"].get<bool>(), class_name,
               ": config 'use_ema' = ", config["use_ema"].dump(), " is not supported");
  }
}

double config_double(const nlohmann::json& config, const char* key, double fallback, const std::string& class_name) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const auto& v = config[key];
  KEEL_CHECK(v.is_number(), class_name, ": config '", key, "' must be a number, got ", v.dump());
  return v.get<double>();
}

bool config_bool(const nlohmann::json& config, const char* key, bool fallback, const std::string& class_name) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const auto& v = config[key];
  KEEL_CHECK(v.is_boolean(), class_name, ": config '", key, "' must be true or false, got ", v.dump());
  return v.get<bool>();
}

LearningRate config_learning_rate(const nlohmann::json& config, const LearningRate& fallback,
                                  const std::string& class_name) {
  if (!config.contains("learning_rate") || config["learning_rate"].is_null()) return fallback;
  const auto& v = config["learning_rate"];
  if (v.is_number()) return v.get<double>();
  KEEL_CHECK(v.is_object(), class_name, ": config 'learning_rate' must be a number or a serialized LearningRateSchedule, got ",
             v.dump());
  try {
    return learning_rate_schedule_from_config(v);
  } catch (const Error& e) {
    throw Error(class_name + ": config 'learning_rate': " + e.what());
  }
}

OptimizerBaseOptions base_options_from_config(const nlohmann::json& config, const std::string& class_name) {
  OptimizerBaseOptions o;
  if (config.contains("name") && !config["name"].is_null()) {
    KEEL_CHECK(config["name"].is_string(), class_name, ": config 'name' must be a string, got ",
               config["name"].dump());
    o.name = config["name"].get<std::string>();
  }
  auto opt = [&](const char* key) -> std::optional<double> {
    if (!config.contains(key) || config[key].is_null()) return std::nullopt;
    return config_double(config, key, 0.0, class_name);
  };
  o.clipnorm = opt("clipnorm");
  o.clipvalue = opt("clipvalue");
  o.global_clipnorm = opt("global_clipnorm");
  o.weight_decay = opt("weight_decay");
  return o;
}

}  // namespace detail

}  // namespace keel::keras
