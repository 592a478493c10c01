// keras::RMSprop, as Keras 2.11+ defines it (keras/optimizers/rmsprop.py): epsilon inside the root.
//
//   keras::RMSprop opt(keras::RMSpropOptions().rho(0.9).momentum(0.5).centered(true));
//
//   rms = rho * rms + (1 - rho) * g^2
//   centered: mg = rho * mg + (1 - rho) * g;  denom = rms - mg^2 + epsilon   else denom = rms + epsilon
//   increment = lr * g / sqrt(denom)
//   momentum > 0: mom = momentum * mom + increment; var -= mom    else var -= increment
// Slots (legacy TF-checkpoint names): rms, momentum (momentum > 0), mg (centered).
// Tracked hyperparameters: rho, momentum.
#pragma once

#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct RMSpropOptions : OptimizerOptions<RMSpropOptions> {
  KEEL_TRAIN_ARG(RMSpropOptions, LearningRate, learning_rate, 0.001)
  KEEL_TRAIN_ARG(RMSpropOptions, double, rho, 0.9)
  KEEL_TRAIN_ARG(RMSpropOptions, double, momentum, 0.0)
  KEEL_TRAIN_ARG(RMSpropOptions, double, epsilon, 1e-7)
  KEEL_TRAIN_ARG(RMSpropOptions, bool, centered, false)
};

class RMSprop : public Optimizer {
 public:
  explicit RMSprop(const RMSpropOptions& options = RMSpropOptions());
  static std::shared_ptr<RMSprop> from_config(const nlohmann::json& config);

  std::string class_name() const override { return "RMSprop"; }
  std::vector<std::string> slot_names() const override;
  nlohmann::json get_config() const override;

  double rho() const { return rho_.value(); }
  double momentum() const { return momentum_.value(); }
  double epsilon() const { return epsilon_; }
  bool centered() const { return centered_; }

 protected:
  void update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                   const StepInfo& info) override;

 private:
  Hyper rho_, momentum_;
  double epsilon_;
  bool centered_;
  bool has_momentum_;
};

}  // namespace keel::keras
