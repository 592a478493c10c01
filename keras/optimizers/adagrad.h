// keras::Adagrad, as Keras 2.11+ defines it (keras/optimizers/adagrad.py): epsilon inside the root.
//
//   keras::Adagrad opt(keras::AdagradOptions().learning_rate(0.01));
//
//   accumulator += g^2;  var -= lr * g / sqrt(accumulator + epsilon)
// Slot: accumulator, starting at initial_accumulator_value (0.1).
#pragma once

#include "keel/keras/optimizers/optimizer.h"
#include "keel/keras/train_arg.h"

namespace keel::keras {

struct AdagradOptions : OptimizerOptions<AdagradOptions> {
  KEEL_TRAIN_ARG(AdagradOptions, LearningRate, learning_rate, 0.001)
  KEEL_TRAIN_ARG(AdagradOptions, double, initial_accumulator_value, 0.1)
  KEEL_TRAIN_ARG(AdagradOptions, double, epsilon, 1e-7)
};

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(const AdagradOptions& options = AdagradOptions());
  static std::shared_ptr<Adagrad> from_config(const nlohmann::json& config);

  std::string class_name() const override { return "Adagrad"; }
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }
  nlohmann::json get_config() const override;

  double initial_accumulator_value() const { return initial_accumulator_value_; }
  double epsilon() const { return epsilon_; }

 protected:
  double slot_initial_value(const std::string& slot_name) const override;
  void update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                   const StepInfo& info) override;

 private:
  double initial_accumulator_value_;
  double epsilon_;
};

}  // namespace keel::keras
