#include "keel/keras/optimizers/sgd.h"

#include <cmath>

#include "keel/keras/optimizers/kernel_util.h"

namespace keel::keras {

SGD::SGD(const SGDOptions& o)
    : Optimizer(o.base(), "SGD", o.learning_rate()),
      momentum_(make_hyper("momentum", o.momentum())),
      nesterov_(o.nesterov()),
      has_momentum_(o.momentum() > 0) {
  KEEL_CHECK(o.momentum() >= 0 && o.momentum() <= 1, name(), ": momentum must be between [0, 1], got ",
             o.momentum());
}

std::vector<std::string> SGD::slot_names() const {
  if (has_momentum_) return {"momentum"};
  return {};
}

void SGD::update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                      const StepInfo& info) {
  const double mom = momentum();
  dispatch_floating(var.dtype(), "SGD", [&](auto z) {
    using T = decltype(z);
    T* p = detail::mutable_data<T>(var.value());
    T* m = has_momentum_ ? detail::mutable_data<T>(slots[0].value()) : nullptr;
    const detail::GradReader<T> g(grad.data<T>(), info.grad_scale, info.clipvalue);
    const T lr = static_cast<T>(info.lr), mu = static_cast<T>(mom);
    const T wd = static_cast<T>(info.weight_decay * info.lr);
    const int64_t n = var.value().numel();
    detail::with_bool(info.weight_decay > 0, [&](auto decay) {
      if (!m) {
        detail::for_chunks(n, [&](int64_t begin, int64_t end) {
#pragma omp simd
          for (int64_t i = begin; i < end; ++i) {
            const T gi = g(i);
            if constexpr (decltype(decay)::value) p[i] -= p[i] * wd;
            p[i] += -gi * lr;
          }
        });
        return;
      }
      detail::with_bool(nesterov_, [&](auto nesterov) {
        detail::for_chunks(n, [&](int64_t begin, int64_t end) {
#pragma omp simd
          for (int64_t i = begin; i < end; ++i) {
            const T gi = g(i);
            if constexpr (decltype(decay)::value) p[i] -= p[i] * wd;
            const T mi = -gi * lr + m[i] * mu;
            m[i] = mi;
            if constexpr (decltype(nesterov)::value)
              p[i] += -gi * lr + mi * mu;
            else
              p[i] += mi;
          }
        });
      });
    });
  });
}

nlohmann::json SGD::get_config() const {
  nlohmann::json c = Optimizer::get_config();
  c["momentum"] = momentum();
  c["nesterov"] = nesterov_;
  return c;
}

std::shared_ptr<SGD> SGD::from_config(const nlohmann::json& config) {
  detail::check_config_keys(config, "SGD", {"learning_rate", "momentum", "nesterov"});
  SGDOptions o;
  o.base() = detail::base_options_from_config(config, "SGD");
  o.learning_rate(detail::config_learning_rate(config, o.learning_rate(), "SGD"))
      .momentum(detail::config_double(config, "momentum", o.momentum(), "SGD"))
      .nesterov(detail::config_bool(config, "nesterov", o.nesterov(), "SGD"));
  return std::make_shared<SGD>(o);
}

}  // namespace keel::keras
