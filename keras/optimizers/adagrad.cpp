#include "keel/keras/optimizers/adagrad.h"

#include <cmath>

#include "keel/keras/optimizers/kernel_util.h"

namespace keel::keras {

Adagrad::Adagrad(const AdagradOptions& o)
    : Optimizer(o.base(), "Adagrad", o.learning_rate()),
      initial_accumulator_value_(o.initial_accumulator_value()),
      epsilon_(o.epsilon()) {}

double Adagrad::slot_initial_value(const std::string& slot_name) const {
  return slot_name == "accumulator" ? initial_accumulator_value_ : 0.0;
}

void Adagrad::update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                          const StepInfo& info) {
  dispatch_floating(var.dtype(), "Adagrad", [&](auto z) {
    using T = decltype(z);
    T* p = detail::mutable_data<T>(var.value());
    T* acc = detail::mutable_data<T>(slots[0].value());
    const detail::GradReader<T> g(grad.data<T>(), info.grad_scale, info.clipvalue);
    const T lr = static_cast<T>(info.lr), eps = static_cast<T>(epsilon_);
    const T wd = static_cast<T>(info.weight_decay * info.lr);
    detail::with_bool(info.weight_decay > 0, [&](auto decay) {
      detail::for_chunks(var.value().numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) {
          const T gi = g(i);
          if constexpr (decltype(decay)::value) p[i] -= p[i] * wd;
          const T ai = acc[i] + gi * gi;
          acc[i] = ai;
          p[i] -= lr * gi / std::sqrt(ai + eps);
        }
      });
    });
  });
}

nlohmann::json Adagrad::get_config() const {
  nlohmann::json c = Optimizer::get_config();
  c["initial_accumulator_value"] = initial_accumulator_value_;
  c["epsilon"] = epsilon_;
  return c;
}

std::shared_ptr<Adagrad> Adagrad::from_config(const nlohmann::json& config) {
  detail::check_config_keys(config, "Adagrad", {"learning_rate", "initial_accumulator_value", "epsilon"});
  AdagradOptions o;
  o.base() = detail::base_options_from_config(config, "Adagrad");
  o.learning_rate(detail::config_learning_rate(config, o.learning_rate(), "Adagrad"))
      .initial_accumulator_value(
          detail::config_double(config, "initial_accumulator_value", o.initial_accumulator_value(), "Adagrad"))
      .epsilon(detail::config_double(config, "epsilon", o.epsilon(), "Adagrad"));
  return std::make_shared<Adagrad>(o);
}

}  // namespace keel::keras
