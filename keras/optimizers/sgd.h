// keras::SGD, as Keras 2.11+ defines it (keras/optimizers/sgd.py).
//
//   keras::SGD opt(keras::SGDOptions().learning_rate(0.1).momentum(0.9).nesterov(true));
//
// Without momentum: var -= lr * g. With momentum (slot `momentum`, created only when momentum > 0):
//   m = momentum * m - lr * g;  var += m                      (plain)
//   m = momentum * m - lr * g;  var += momentum * m - lr * g  (nesterov)
// Tracked hyperparameter: momentum. momentum must lie in [0, 1].
#pragma once

#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct SGDOptions : OptimizerOptions<SGDOptions> {
  KEEL_TRAIN_ARG(SGDOptions, LearningRate, learning_rate, 0.01)
  KEEL_TRAIN_ARG(SGDOptions, double, momentum, 0.0)
  KEEL_TRAIN_ARG(SGDOptions, bool, nesterov, false)
};

class SGD : public Optimizer {
 public:
  explicit SGD(const SGDOptions& options = SGDOptions());
  static std::shared_ptr<SGD> from_config(const nlohmann::json& config);

  std::string class_name() const override { return "SGD"; }
  std::vector<std::string> slot_names() const override;
  nlohmann::json get_config() const override;

  double momentum() const { return momentum_.value(); }
  bool nesterov() const { return nesterov_; }

 protected:
  void update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                   const StepInfo& info) override;

 private:
  Hyper momentum_;
  bool nesterov_;
  bool has_momentum_;
};

}  // namespace keel::keras
