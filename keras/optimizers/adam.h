// keras::Adam, as Keras 2.11+ defines it (keras/optimizers/adam.py).
//
//   keras::Adam opt(keras::AdamOptions().learning_rate(1e-3).amsgrad(true));
//   opt.apply_gradients(grads, vars);
//
// Per step t = iterations + 1, with alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t):
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2);  [vhat = max(vhat, v); v = vhat]
//   var -= m * alpha / (sqrt(v) + epsilon)
// Slots: m, v (and vhat with amsgrad). Tracked hyperparameters: beta_1, beta_2.
#pragma once

#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct AdamOptions : OptimizerOptions<AdamOptions> {
  KEEL_TRAIN_ARG(AdamOptions, LearningRate, learning_rate, 0.001)
  KEEL_TRAIN_ARG(AdamOptions, double, beta_1, 0.9)
  KEEL_TRAIN_ARG(AdamOptions, double, beta_2, 0.999)
  KEEL_TRAIN_ARG(AdamOptions, double, epsilon, 1e-7)
  KEEL_TRAIN_ARG(AdamOptions, bool, amsgrad, false)
};

class Adam : public Optimizer {
 public:
  explicit Adam(const AdamOptions& options = AdamOptions());
  static std::shared_ptr<Adam> from_config(const nlohmann::json& config);

  std::string class_name() const override { return "Adam"; }
  std::vector<std::string> slot_names() const override;
  nlohmann::json get_config() const override;

  double beta_1() const { return beta_1_.value(); }
  double beta_2() const { return beta_2_.value(); }
  double epsilon() const { return epsilon_; }
  bool amsgrad() const { return amsgrad_; }

 protected:
  void update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                   const StepInfo& info) override;

 private:
  Hyper beta_1_, beta_2_;
  double epsilon_;
  bool amsgrad_;
};

}  // namespace keel::keras
