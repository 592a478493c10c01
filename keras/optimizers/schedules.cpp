#include "keel/keras/optimizers/schedules.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "keel/graph/error.h"

namespace keel::keras {

namespace {

constexpr double kPi = 3.14159265358979323846;

void check_steps(double steps, const char* key, const char* cls) {
  KEEL_CHECK(steps > 0 && std::isfinite(steps), cls, ": '", key, "' must be positive, got ", steps);
}

// A step count as Keras writes it: an integer when it is one (Python's 1000, not 1000.0).
nlohmann::json steps_json(double steps) {
  if (std::floor(steps) == steps && std::abs(steps) < 9007199254740992.0) return static_cast<int64_t>(steps);
  return steps;
}

nlohmann::json name_json(const std::optional<std::string>& name) {
  return name ? nlohmann::json(*name) : nlohmann::json(nullptr);
}

// Reads one schedule's Keras config: every key known, required keys present, each of its type.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& config, const char* cls, std::vector<const char*> keys)
      : config_(config), cls_(cls) {
    KEEL_CHECK(config.is_object(), cls, ": config must be a JSON object, got ", config.type_name());
    keys.push_back("name");
    for (const auto& item : config.items()) {
      const bool known = std::any_of(keys.begin(), keys.end(), [&](const char* k) { return item.key() == k; });
      KEEL_CHECK(known, cls, ": unknown config key '", item.key(), "'");
    }
  }
  const nlohmann::json& required(const char* key) const {
    KEEL_CHECK(config_.contains(key) && !config_[key].is_null(), cls_, ": config lacks '", key, "'");
    return config_[key];
  }
  double number(const char* key) const { return as_number(required(key), key); }
  double number(const char* key, double fallback) const {
    if (!config_.contains(key) || config_[key].is_null()) return fallback;
    return as_number(config_[key], key);
  }
  bool boolean(const char* key, bool fallback) const {
    if (!config_.contains(key) || config_[key].is_null()) return fallback;
    const auto& v = config_[key];
    KEEL_CHECK(v.is_boolean(), cls_, ": config '", key, "' must be true or false, got ", v.dump());
    return v.get<bool>();
  }
  const nlohmann::json& list(const char* key) const {
    const auto& v = required(key);
    KEEL_CHECK(v.is_array(), cls_, ": config '", key, "' must be a list, got ", v.dump());
    return v;
  }
  double as_number(const nlohmann::json& v, const std::string& key) const {
    KEEL_CHECK(v.is_number(), cls_, ": config '", key, "' must be a number, got ", v.dump());
    return v.get<double>();
  }
  template <class S>
  std::shared_ptr<S> named(std::shared_ptr<S> s) const {
    if (config_.contains("name") && !config_["name"].is_null()) {
      KEEL_CHECK(config_["name"].is_string(), cls_, ": config 'name' must be a string, got ", config_["name"].dump());
      s->name(config_["name"].get<std::string>());
    }
    return s;
  }

 private:
  const nlohmann::json& config_;
  const char* cls_;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, LearningRateScheduleFactory> by_name;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->by_name["ExponentialDecay"] = [](const nlohmann::json& c) { return ExponentialDecay::from_config(c); };
    reg->by_name["PiecewiseConstantDecay"] = [](const nlohmann::json& c) {
      return PiecewiseConstantDecay::from_config(c);
    };
    reg->by_name["PolynomialDecay"] = [](const nlohmann::json& c) { return PolynomialDecay::from_config(c); };
    reg->by_name["InverseTimeDecay"] = [](const nlohmann::json& c) { return InverseTimeDecay::from_config(c); };
    reg->by_name["CosineDecay"] = [](const nlohmann::json& c) { return CosineDecay::from_config(c); };
    reg->by_name["CosineDecayRestarts"] = [](const nlohmann::json& c) { return CosineDecayRestarts::from_config(c); };
    return reg;
  }();
  return *r;
}

}  // namespace

LearningRateSchedule::~LearningRateSchedule() = default;

// ExponentialDecay

ExponentialDecay::ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate)
    : initial_learning_rate_(initial_learning_rate), decay_steps_(decay_steps), decay_rate_(decay_rate) {
  check_steps(decay_steps, "decay_steps", "ExponentialDecay");
}

double ExponentialDecay::operator()(int64_t step) const {
  double p = static_cast<double>(step) / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ * std::pow(decay_rate_, p);
}

nlohmann::json ExponentialDecay::get_config() const {
  return {{"initial_learning_rate", initial_learning_rate_}, {"decay_steps", steps_json(decay_steps_)},
          {"decay_rate", decay_rate_}, {"staircase", staircase_}, {"name", name_json(name())}};
}

std::shared_ptr<ExponentialDecay> ExponentialDecay::from_config(const nlohmann::json& config) {
  const ConfigReader r(config, "ExponentialDecay", {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"});
  const double lr0 = r.number("initial_learning_rate"), steps = r.number("decay_steps");
  auto s = std::make_shared<ExponentialDecay>(lr0, steps, r.number("decay_rate"));
  s->staircase(r.boolean("staircase", false));
  return r.named(s);
}

// PiecewiseConstantDecay

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  KEEL_CHECK(!boundaries_.empty(), "PiecewiseConstantDecay: 'boundaries' is empty; it needs at least one boundary");
  KEEL_CHECK(values_.size() == boundaries_.size() + 1,
             "PiecewiseConstantDecay: 'values' must have one more element than 'boundaries', got ", boundaries_.size(),
             " boundaries and ", values_.size(), " values");
  for (size_t i = 1; i < boundaries_.size(); ++i)
    KEEL_CHECK(boundaries_[i - 1] < boundaries_[i], "PiecewiseConstantDecay: 'boundaries' must be strictly increasing, "
               "got boundaries[", i - 1, "] = ", boundaries_[i - 1], " and boundaries[", i, "] = ", boundaries_[i]);
}

double PiecewiseConstantDecay::operator()(int64_t step) const {
  // values[i] for the first boundary i with step <= boundaries[i]; past the last, values.back().
  const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), step);
  return values_[static_cast<size_t>(it - boundaries_.begin())];
}

nlohmann::json PiecewiseConstantDecay::get_config() const {
  return {{"boundaries", boundaries_}, {"values", values_}, {"name", name_json(name())}};
}

std::shared_ptr<PiecewiseConstantDecay> PiecewiseConstantDecay::from_config(const nlohmann::json& config) {
  const char* cls = "PiecewiseConstantDecay";
  const ConfigReader r(config, cls, {"boundaries", "values"});
  std::vector<int64_t> boundaries;
  const auto& b = r.list("boundaries");
  for (size_t i = 0; i < b.size(); ++i) {
    const std::string key = "boundaries[" + std::to_string(i) + "]";
    const double v = r.as_number(b[i], key);
    KEEL_CHECK(std::floor(v) == v && std::abs(v) < 9.2e18, cls, ": config '", key, "' must be a whole step number, got ",
               b[i].dump());
    boundaries.push_back(static_cast<int64_t>(v));
  }
  std::vector<double> values;
  const auto& vs = r.list("values");
  for (size_t i = 0; i < vs.size(); ++i) values.push_back(r.as_number(vs[i], "values[" + std::to_string(i) + "]"));
  return r.named(std::make_shared<PiecewiseConstantDecay>(std::move(boundaries), std::move(values)));
}

// PolynomialDecay

PolynomialDecay::PolynomialDecay(double initial_learning_rate, double decay_steps)
    : initial_learning_rate_(initial_learning_rate), decay_steps_(decay_steps) {
  check_steps(decay_steps, "decay_steps", "PolynomialDecay");
}

double PolynomialDecay::operator()(int64_t step) const {
  double s = static_cast<double>(step);
  double ds = decay_steps_;
  if (cycle_) {
    // The first multiple of decay_steps at or past the step (decay_steps itself at step 0).
    ds *= s == 0 ? 1.0 : std::ceil(s / decay_steps_);
  } else {
    s = std::min(s, ds);
  }
  return (initial_learning_rate_ - end_learning_rate_) * std::pow(1 - s / ds, power_) + end_learning_rate_;
}

nlohmann::json PolynomialDecay::get_config() const {
  return {{"initial_learning_rate", initial_learning_rate_}, {"decay_steps", steps_json(decay_steps_)},
          {"end_learning_rate", end_learning_rate_}, {"power", power_}, {"cycle", cycle_},
          {"name", name_json(name())}};
}

std::shared_ptr<PolynomialDecay> PolynomialDecay::from_config(const nlohmann::json& config) {
  const ConfigReader r(config, "PolynomialDecay",
                       {"initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"});
  const double lr0 = r.number("initial_learning_rate");
  auto s = std::make_shared<PolynomialDecay>(lr0, r.number("decay_steps"));
  s->end_learning_rate(r.number("end_learning_rate", 0.0001)).power(r.number("power", 1.0)).cycle(r.boolean("cycle", false));
  return r.named(s);
}

// InverseTimeDecay

InverseTimeDecay::InverseTimeDecay(double initial_learning_rate, double decay_steps, double decay_rate)
    : initial_learning_rate_(initial_learning_rate), decay_steps_(decay_steps), decay_rate_(decay_rate) {
  check_steps(decay_steps, "decay_steps", "InverseTimeDecay");
}

double InverseTimeDecay::operator()(int64_t step) const {
  double p = static_cast<double>(step) / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_learning_rate_ / (1 + decay_rate_ * p);
}

nlohmann::json InverseTimeDecay::get_config() const {
  return {{"initial_learning_rate", initial_learning_rate_}, {"decay_steps", steps_json(decay_steps_)},
          {"decay_rate", decay_rate_}, {"staircase", staircase_}, {"name", name_json(name())}};
}

std::shared_ptr<InverseTimeDecay> InverseTimeDecay::from_config(const nlohmann::json& config) {
  const ConfigReader r(config, "InverseTimeDecay", {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"});
  const double lr0 = r.number("initial_learning_rate"), steps = r.number("decay_steps");
  auto s = std::make_shared<InverseTimeDecay>(lr0, steps, r.number("decay_rate"));
  s->staircase(r.boolean("staircase", false));
  return r.named(s);
}

// CosineDecay

CosineDecay::CosineDecay(double initial_learning_rate, double decay_steps)
    : initial_learning_rate_(initial_learning_rate), decay_steps_(decay_steps) {
  check_steps(decay_steps, "decay_steps", "CosineDecay");
}

double CosineDecay::operator()(int64_t step) const {
  const double fraction = std::min(static_cast<double>(step), decay_steps_) / decay_steps_;
  const double cosine = 0.5 * (1 + std::cos(kPi * fraction));
  return initial_learning_rate_ * ((1 - alpha_) * cosine + alpha_);
}

nlohmann::json CosineDecay::get_config() const {
  return {{"initial_learning_rate", initial_learning_rate_}, {"decay_steps", steps_json(decay_steps_)},
          {"alpha", alpha_}, {"name", name_json(name())}};
}

std::shared_ptr<CosineDecay> CosineDecay::from_config(const nlohmann::json& config) {
  const ConfigReader r(config, "CosineDecay", {"initial_learning_rate", "decay_steps", "alpha"});
  const double lr0 = r.number("initial_learning_rate");
  auto s = std::make_shared<CosineDecay>(lr0, r.number("decay_steps"));
  s->alpha(r.number("alpha", 0.0));
  return r.named(s);
}

// CosineDecayRestarts

CosineDecayRestarts::CosineDecayRestarts(double initial_learning_rate, double first_decay_steps)
    : initial_learning_rate_(initial_learning_rate), first_decay_steps_(first_decay_steps) {
  check_steps(first_decay_steps, "first_decay_steps", "CosineDecayRestarts");
}

CosineDecayRestarts& CosineDecayRestarts::t_mul(double v) {
  KEEL_CHECK(v > 0 && std::isfinite(v), "CosineDecayRestarts: 't_mul' must be positive, got ", v);
  t_mul_ = v;
  return *this;
}

double CosineDecayRestarts::operator()(int64_t step) const {
  double fraction = static_cast<double>(step) / first_decay_steps_;
  double restart;
  if (t_mul_ == 1.0) {
    restart = std::floor(fraction);
    fraction -= restart;
  } else {
    // Periods grow by t_mul: restart i begins at fraction (1 - t_mul^i) / (1 - t_mul).
    restart = std::floor(std::log(1 - fraction * (1 - t_mul_)) / std::log(t_mul_));
    const double begun = (1 - std::pow(t_mul_, restart)) / (1 - t_mul_);
    fraction = (fraction - begun) / std::pow(t_mul_, restart);
  }
  const double cosine = 0.5 * std::pow(m_mul_, restart) * (1 + std::cos(kPi * fraction));
  return initial_learning_rate_ * ((1 - alpha_) * cosine + alpha_);
}

nlohmann::json CosineDecayRestarts::get_config() const {
  return {{"initial_learning_rate", initial_learning_rate_}, {"first_decay_steps", steps_json(first_decay_steps_)},
          {"t_mul", t_mul_}, {"m_mul", m_mul_}, {"alpha", alpha_}, {"name", name_json(name())}};
}

std::shared_ptr<CosineDecayRestarts> CosineDecayRestarts::from_config(const nlohmann::json& config) {
  const ConfigReader r(config, "CosineDecayRestarts",
                       {"initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha"});
  const double lr0 = r.number("initial_learning_rate");
  auto s = std::make_shared<CosineDecayRestarts>(lr0, r.number("first_decay_steps"));
  s->t_mul(r.number("t_mul", 2.0)).m_mul(r.number("m_mul", 1.0)).alpha(r.number("alpha", 0.0));
  return r.named(s);
}

// Registry

void register_learning_rate_schedule(const std::string& class_name, LearningRateScheduleFactory factory) {
  KEEL_CHECK(!class_name.empty() && factory, "register_learning_rate_schedule: empty class name or factory");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_name[class_name] = std::move(factory);
}

std::shared_ptr<LearningRateSchedule> learning_rate_schedule_from_config(const nlohmann::json& spec) {
  KEEL_CHECK(spec.is_object() && spec.contains("class_name") && spec["class_name"].is_string(),
             "learning_rate_schedule_from_config: expected {\"class_name\": ..., \"config\": {...}}, got ", spec.dump());
  const std::string cls = spec["class_name"].get<std::string>();
  LearningRateScheduleFactory factory;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.by_name.find(cls);
    if (it == r.by_name.end()) {
      std::string known;
      for (const auto& [k, v] : r.by_name) known += (known.empty() ? "" : ", ") + k;
      KEEL_FAIL("learning rate schedule '", cls, "' is not registered (known: ", known, ")");
    }
    factory = it->second;
  }
  for (const auto& item : spec.items()) {
    const std::string& key = item.key();
    KEEL_CHECK(key == "class_name" || key == "config" || key == "module" || key == "registered_name", cls,
               ": unknown key '", key, "' beside class_name and config");
  }
  const nlohmann::json config = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  auto schedule = factory(config);
  KEEL_CHECK(schedule != nullptr, cls, ": the registered factory returned no schedule");
  return schedule;
}

nlohmann::json serialize_learning_rate_schedule(const LearningRateSchedule& schedule) {
  return {{"class_name", schedule.class_name()}, {"config", schedule.get_config()}};
}

}  // namespace keel::keras
