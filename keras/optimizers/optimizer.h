// keras::Optimizer: the base of Keras's optimizers (SGD, Adam, RMSprop, Adagrad), a Trackable.
//
//   auto opt = std::make_shared<keras::Adam>(keras::AdamOptions().learning_rate(1e-3).amsgrad(true));
//   opt->apply_gradients(grads, model_variables);  // in place, fused, increments iterations()
//   opt->set_learning_rate(1e-4);
//   keras::SGD sgd(keras::SGDOptions().learning_rate(keras::ExponentialDecay(0.1, 1000, 0.9)));  // schedules.h
//   nlohmann::json cfg = opt->get_config();          // Keras's JSON: {"name": "Adam", "learning_rate": ...}
//   auto same = keras::optimizer_from_config({{"class_name", "Adam"}, {"config", cfg}});
//   auto sgd = keras::optimizer_from_name("sgd");    // class names or Keras's lower-case aliases
//
// Update formulas, defaults and epsilon placement are those of Keras 2.11+ (keras/optimizers/*.py).
// Checkpoint layout follows Keras 2.x's TF checkpoints: children `iter` (i64 scalar), `learning_rate`
// (f32 scalar) and the optimizer's float hyperparameters (`beta_1`, `beta_2`, `rho`, `momentum`), and
// per-variable slots (`m`, `v`, `vhat`, `momentum`, `rms`, `mg`, `accumulator`) listed by
// slot_variables(). Slots are created on the first apply for a variable, or by create_slot_for_restore.
//
// Gradient clipping (at most one of clipnorm / global_clipnorm, as Keras): clipnorm rescales each
// gradient to an L2 norm of at most clipnorm, global_clipnorm rescales all of them together,
// clipvalue clamps each element. Like Keras, only the first that is set applies (clipnorm, then
// global_clipnorm, then clipvalue). weight_decay subtracts var * weight_decay * lr before the update.
//
// learning_rate is a constant or a LearningRateSchedule (schedules.h): with a schedule, the step taken at
// iterations() == k uses schedule(k) rounded to float32, stored in the `learning_rate` variable first (so
// checkpoints keep their layout and learning_rate() is the last step's value); set_learning_rate is then an
// error, and get_config writes the schedule's {"class_name", "config"}.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/checkpoint/trackable.h"
#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"
#include "keel/keras/optimizers/schedules.h"

namespace keel::keras {

// Options every optimizer accepts (Keras's base keyword arguments).
struct OptimizerBaseOptions {
  std::string name;
  std::optional<double> clipnorm, clipvalue, global_clipnorm, weight_decay;
};

// Chainable base options for each optimizer's option struct (CRTP keeps chains typed).
template <class Self>
class OptimizerOptions {
 public:
  Self& name(std::string v) { base_.name = std::move(v); return self(); }
  Self& clipnorm(double v) { base_.clipnorm = v; return self(); }
  Self& clipvalue(double v) { base_.clipvalue = v; return self(); }
  Self& global_clipnorm(double v) { base_.global_clipnorm = v; return self(); }
  Self& weight_decay(double v) { base_.weight_decay = v; return self(); }
  const OptimizerBaseOptions& base() const { return base_; }
  OptimizerBaseOptions& base() { return base_; }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  OptimizerBaseOptions base_;
};

class Optimizer : public Trackable {
 public:
  ~Optimizer() override;

  // Applies one step: grads[i] is the gradient of vars[i] (same shape and dtype; an undefined gradient
  // skips its variable, but not all of them may be undefined). Runs under NoGradGuard, updates each
  // variable and its slots in one fused pass, then increments iterations().
  void apply_gradients(const std::vector<Tensor>& grads, const std::vector<Variable>& vars);

  const std::string& name() const { return base_.name; }
  virtual std::string class_name() const = 0;
  // Slot names this configuration uses, in creation order (Adam: m, v[, vhat]).
  virtual std::vector<std::string> slot_names() const = 0;

  const Variable& iterations() const { return iterations_; }
  int64_t iterations_value() const;
  const Variable& learning_rate_variable() const { return learning_rate_; }
  double learning_rate() const;  // the f32 variable's value (with a schedule: the value the last step used)
  // Sets the constant learning rate; an error when the optimizer was created with a schedule.
  void set_learning_rate(double lr);
  // The schedule given as learning_rate, or null for a constant learning rate.
  const std::shared_ptr<LearningRateSchedule>& learning_rate_schedule() const { return schedule_; }

  std::optional<double> clipnorm() const { return base_.clipnorm; }
  std::optional<double> clipvalue() const { return base_.clipvalue; }
  std::optional<double> global_clipnorm() const { return base_.global_clipnorm; }
  std::optional<double> weight_decay() const { return base_.weight_decay; }

  // The slot `slot_name` of `var`, or an undefined Variable when it has not been created.
  Variable get_slot(const Variable& var, const std::string& slot_name) const;
  // Variables with slots, in the order they were first seen.
  std::vector<Variable> slotted_variables() const;

  // Trackable
  std::vector<SlotVariable> slot_variables() const override;
  Variable create_slot_for_restore(const Variable& original, const std::string& slot_name) override;

  // Keras's get_config (name, weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema,
  // ema_momentum, ema_overwrite_frequency, jit_compile, is_legacy_optimizer, learning_rate, ...).
  virtual nlohmann::json get_config() const;

 protected:
  // A float hyperparameter held as a config double and an f32 Variable (the legacy checkpoint value).
  // value() is the config double while the variable still holds its float rounding (so f64 updates
  // use 0.9 exactly, as Keras 2.11 does), else the variable's value (a restored checkpoint wins).
  struct Hyper {
    double config = 0;
    Variable var;
    double value() const;
  };
  // What one step needs besides the slots; all scalars are in double, kernels cast to T.
  struct StepInfo {
    double lr = 0;
    int64_t step = 1;           // iterations + 1, as Keras's local_step
    double grad_scale = 1;      // from clipnorm / global_clipnorm
    double clipvalue = 0;       // > 0: clamp each gradient element to [-clipvalue, clipvalue]
    double weight_decay = 0;    // > 0: var -= var * weight_decay * lr before the update
  };

  Optimizer(OptimizerBaseOptions base, std::string default_name, const LearningRate& learning_rate);
  Hyper make_hyper(const std::string& name, double value);
  // Initial value of a new slot (zeros; Adagrad's accumulator overrides).
  virtual double slot_initial_value(const std::string& /*slot_name*/) const { return 0.0; }
  // One fused pass over `var` with its slots (in slot_names() order).
  virtual void update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                           const StepInfo& info) = 0;

 private:
  struct Entry {
    Variable var;
    std::vector<Variable> slots;  // parallel to slot_names(); undefined until created
  };
  Entry& entry_for(const Variable& var);
  Variable make_slot(const Variable& var, const std::string& slot_name);

  OptimizerBaseOptions base_;
  Variable iterations_;
  Variable learning_rate_;
  std::shared_ptr<LearningRateSchedule> schedule_;
  std::vector<Entry> entries_;
  std::unordered_map<const void*, size_t> index_;
};

// Registry by class name ("Adam") and lower-case alias ("adam"); users may register their own.
using OptimizerFactory = std::function<std::shared_ptr<Optimizer>(const nlohmann::json& config)>;
void register_optimizer(const std::string& class_name, OptimizerFactory factory);
// `name` is a class name or an alias (case-insensitive); default configuration.
std::shared_ptr<Optimizer> optimizer_from_name(const std::string& name);
// {"class_name": "Adam", "config": {...}} (a bare class-name string is accepted too).
std::shared_ptr<Optimizer> optimizer_from_config(const nlohmann::json& spec);
// {"class_name": ..., "config": get_config()}
nlohmann::json serialize_optimizer(const Optimizer& opt);

namespace detail {
// Reads the base options from a Keras config (unknown/irrelevant keys such as jit_compile are
// ignored; use_ema true is rejected, naming `class_name`).
OptimizerBaseOptions base_options_from_config(const nlohmann::json& config, const std::string& class_name);
// Throws naming `class_name` and the key when `config` is not an object or has a key that is neither a
// base option nor in `own_keys`.
void check_config_keys(const nlohmann::json& config, const std::string& class_name,
                       const std::vector<std::string>& own_keys);
double config_double(const nlohmann::json& config, const char* key, double fallback, const std::string& class_name);
bool config_bool(const nlohmann::json& config, const char* key, bool fallback, const std::string& class_name);
// "learning_rate": a number, or a serialized schedule ({"class_name": ..., "config": ...}).
LearningRate config_learning_rate(const nlohmann::json& config, const LearningRate& fallback,
                                  const std::string& class_name);
}  // namespace detail

}  // namespace keel::keras
