// Keras's learning-rate schedules (keras.optimizers.schedules, Keras 2.11): a learning rate as a function
// of the optimizer's step, which any optimizer accepts in place of a constant learning rate.
//
//   auto opt = std::make_shared<keras::Adam>(
//       keras::AdamOptions().learning_rate(keras::ExponentialDecay(1e-3, /*decay_steps=*/1000, /*decay_rate=*/0.9)));
//   keras::SGD sgd(keras::SGDOptions().learning_rate(
//       keras::PiecewiseConstantDecay({1000, 2000}, {0.1, 0.01, 0.001})));
//   auto lr = std::make_shared<keras::PolynomialDecay>(0.1, 10000);   // or a shared_ptr, kept by reference
//   lr->end_learning_rate(0.01).power(0.5).cycle(true);
//   keras::RMSprop rms(keras::RMSpropOptions().learning_rate(lr));
//   double v = (*lr)(500);                                          // the value at step 500, in double
//   nlohmann::json j = keras::serialize_learning_rate_schedule(*lr);  // {"class_name": ..., "config": {...}}
//   auto same = keras::learning_rate_schedule_from_config(j);
//
// The optimizer's step k (taken while iterations() == k, before it increments) uses schedule(k), computed
// in double and rounded to float32; the optimizer's `learning_rate` variable (the f32 value checkpoints
// hold) is set to it at the start of every step, so learning_rate() is the value the last step used
// (schedule(0) before the first). A schedule depends only on the step, so a restored checkpoint (which holds
// iterations) resumes it exactly. set_learning_rate on an optimizer with a schedule is an error, as in Keras
// (TypeError there). The optimizer's get_config writes the schedule as Keras 2.11 serializes it
// ({"class_name": "ExponentialDecay", "config": {...}}) and optimizer_from_config reads it back, through the
// registry below; register your own schedules there.
//
// Formulas (step s, all in double; "ds" is decay_steps):
//   ExponentialDecay(lr0, ds, rate, staircase=false):  lr0 * rate^p, p = s / ds (floored with staircase)
//   PiecewiseConstantDecay(boundaries, values):        values[0] while s <= boundaries[0], values[i] while
//                                                      boundaries[i-1] < s <= boundaries[i], values.back() after
//   PolynomialDecay(lr0, ds, end=1e-4, power=1, cycle=false):  (lr0 - end) * (1 - s'/ds')^power + end, with
//       s' = min(s, ds), ds' = ds; or with cycle s' = s, ds' = ds * ceil(s / ds) (ds' = ds at s = 0)
//   InverseTimeDecay(lr0, ds, rate, staircase=false):  lr0 / (1 + rate * p), p = s / ds (floored with staircase)
//   CosineDecay(lr0, ds, alpha=0):                     lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * min(s, ds) / ds)) + alpha)
//   CosineDecayRestarts(lr0, first_ds, t_mul=2, m_mul=1, alpha=0): f = s / first_ds; with t_mul == 1,
//       i = floor(f), f -= i; else i = floor(log(1 - f * (1 - t_mul)) / log(t_mul)),
//       f = (f - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i; then lr0 * ((1 - alpha) * 0.5 * m_mul^i * (1 + cos(pi * f)) + alpha)
// Keras itself evaluates these in float32 (the dtype of initial_learning_rate); keel's double may differ
// from TensorFlow's result in the last bit of the float32 learning rate.
//
// Preconditions, checked (keel::Error naming the schedule class and the argument or config key):
// decay_steps / first_decay_steps > 0; t_mul > 0; boundaries non-empty, strictly increasing, with one
// more value than boundaries. Keras casts PiecewiseConstantDecay's boundaries to the step's integer type;
// keel's boundaries are whole steps (a config boundary with a fraction is an error). Every schedule has an
// optional `name` (config "name", null when unset), kept for the config only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/graph/error.h"

namespace keel::keras {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule();
  // The learning rate at optimizer step `step` (>= 0), in double.
  virtual double operator()(int64_t step) const = 0;
  virtual std::string class_name() const = 0;
  // Keras's get_config: the constructor's arguments by name.
  virtual nlohmann::json get_config() const = 0;

  const std::optional<std::string>& name() const { return name_; }

 protected:
  std::optional<std::string> name_;
};

namespace detail {
// Chainable name() for each schedule (CRTP keeps chains typed).
template <class Self>
class NamedSchedule : public LearningRateSchedule {
 public:
  using LearningRateSchedule::name;
  Self& name(std::string v) {
    name_ = std::move(v);
    return static_cast<Self&>(*this);
  }
};
}  // namespace detail

class ExponentialDecay : public detail::NamedSchedule<ExponentialDecay> {
 public:
  ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate);
  ExponentialDecay& staircase(bool v) { staircase_ = v; return *this; }
  static std::shared_ptr<ExponentialDecay> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "ExponentialDecay"; }
  nlohmann::json get_config() const override;
  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }

 private:
  double initial_learning_rate_, decay_steps_, decay_rate_;
  bool staircase_ = false;
};

class PiecewiseConstantDecay : public detail::NamedSchedule<PiecewiseConstantDecay> {
 public:
  PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values);
  static std::shared_ptr<PiecewiseConstantDecay> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  nlohmann::json get_config() const override;
  const std::vector<int64_t>& boundaries() const { return boundaries_; }
  const std::vector<double>& values() const { return values_; }

 private:
  std::vector<int64_t> boundaries_;
  std::vector<double> values_;
};

class PolynomialDecay : public detail::NamedSchedule<PolynomialDecay> {
 public:
  PolynomialDecay(double initial_learning_rate, double decay_steps);
  PolynomialDecay& end_learning_rate(double v) { end_learning_rate_ = v; return *this; }
  PolynomialDecay& power(double v) { power_ = v; return *this; }
  PolynomialDecay& cycle(bool v) { cycle_ = v; return *this; }
  static std::shared_ptr<PolynomialDecay> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "PolynomialDecay"; }
  nlohmann::json get_config() const override;
  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double end_learning_rate() const { return end_learning_rate_; }
  double power() const { return power_; }
  bool cycle() const { return cycle_; }

 private:
  double initial_learning_rate_, decay_steps_;
  double end_learning_rate_ = 0.0001, power_ = 1.0;
  bool cycle_ = false;
};

class InverseTimeDecay : public detail::NamedSchedule<InverseTimeDecay> {
 public:
  InverseTimeDecay(double initial_learning_rate, double decay_steps, double decay_rate);
  InverseTimeDecay& staircase(bool v) { staircase_ = v; return *this; }
  static std::shared_ptr<InverseTimeDecay> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "InverseTimeDecay"; }
  nlohmann::json get_config() const override;
  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }

 private:
  double initial_learning_rate_, decay_steps_, decay_rate_;
  bool staircase_ = false;
};

class CosineDecay : public detail::NamedSchedule<CosineDecay> {
 public:
  CosineDecay(double initial_learning_rate, double decay_steps);
  CosineDecay& alpha(double v) { alpha_ = v; return *this; }
  static std::shared_ptr<CosineDecay> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "CosineDecay"; }
  nlohmann::json get_config() const override;
  double initial_learning_rate() const { return initial_learning_rate_; }
  double decay_steps() const { return decay_steps_; }
  double alpha() const { return alpha_; }

 private:
  double initial_learning_rate_, decay_steps_;
  double alpha_ = 0.0;
};

class CosineDecayRestarts : public detail::NamedSchedule<CosineDecayRestarts> {
 public:
  CosineDecayRestarts(double initial_learning_rate, double first_decay_steps);
  CosineDecayRestarts& t_mul(double v);
  CosineDecayRestarts& m_mul(double v) { m_mul_ = v; return *this; }
  CosineDecayRestarts& alpha(double v) { alpha_ = v; return *this; }
  static std::shared_ptr<CosineDecayRestarts> from_config(const nlohmann::json& config);

  double operator()(int64_t step) const override;
  std::string class_name() const override { return "CosineDecayRestarts"; }
  nlohmann::json get_config() const override;
  double initial_learning_rate() const { return initial_learning_rate_; }
  double first_decay_steps() const { return first_decay_steps_; }
  double t_mul() const { return t_mul_; }
  double m_mul() const { return m_mul_; }
  double alpha() const { return alpha_; }

 private:
  double initial_learning_rate_, first_decay_steps_;
  double t_mul_ = 2.0, m_mul_ = 1.0, alpha_ = 0.0;
};

// An optimizer's learning_rate option: a constant or a schedule.
//   AdamOptions().learning_rate(1e-3)
//   AdamOptions().learning_rate(keras::CosineDecay(1e-3, 5000))            // copied
//   AdamOptions().learning_rate(std::make_shared<keras::CosineDecay>(...))  // shared
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: implicit, as Keras takes a float
  template <class S, class = std::enable_if_t<std::is_base_of_v<LearningRateSchedule, S>>>
  LearningRate(std::shared_ptr<S> schedule) : schedule_(std::move(schedule)) {  // NOLINT
    KEEL_CHECK(schedule_ != nullptr, "learning_rate: the LearningRateSchedule is null");
  }
  template <class S, class = std::enable_if_t<std::is_base_of_v<LearningRateSchedule, S> && !std::is_abstract_v<S>>>
  LearningRate(const S& schedule) : schedule_(std::make_shared<S>(schedule)) {}  // NOLINT

  bool is_schedule() const { return schedule_ != nullptr; }
  // The constant (unused with a schedule).
  double value() const { return value_; }
  const std::shared_ptr<LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  double value_ = 0;
  std::shared_ptr<LearningRateSchedule> schedule_;
};

// Registry by class name (exact, as Keras's deserialize); users may register their own schedules.
using LearningRateScheduleFactory = std::function<std::shared_ptr<LearningRateSchedule>(const nlohmann::json& config)>;
void register_learning_rate_schedule(const std::string& class_name, LearningRateScheduleFactory factory);
// {"class_name": "ExponentialDecay", "config": {...}} (Keras 2.13's extra "module" and "registered_name"
// keys are ignored).
std::shared_ptr<LearningRateSchedule> learning_rate_schedule_from_config(const nlohmann::json& spec);
// {"class_name": ..., "config": get_config()}
nlohmann::json serialize_learning_rate_schedule(const LearningRateSchedule& schedule);

}  // namespace keel::keras
