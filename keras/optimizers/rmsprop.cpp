#include "keel/keras/optimizers/rmsprop.h"

#include <cmath>

#include "keel/keras/optimizers/kernel_util.h"

namespace keel::keras {

RMSprop::RMSprop(const RMSpropOptions& o)
    : Optimizer(o.base(), "RMSprop", o.learning_rate()),
      rho_(make_hyper("rho", o.rho())),
      momentum_(make_hyper("momentum", o.momentum())),
      epsilon_(o.epsilon()),
      centered_(o.centered()),
      has_momentum_(o.momentum() > 0) {}

std::vector<std::string> RMSprop::slot_names() const {
  std::vector<std::string> names{"rms"};
  if (has_momentum_) names.push_back("momentum");
  if (centered_) names.push_back("mg");
  return names;
}

void RMSprop::update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                          const StepInfo& info) {
  const double r = rho(), mom = momentum();
  dispatch_floating(var.dtype(), "RMSprop", [&](auto z) {
    using T = decltype(z);
    T* p = detail::mutable_data<T>(var.value());
    T* rms = detail::mutable_data<T>(slots[0].value());
    T* mo = has_momentum_ ? detail::mutable_data<T>(slots[1].value()) : nullptr;
    T* mg = centered_ ? detail::mutable_data<T>(slots[has_momentum_ ? 2 : 1].value()) : nullptr;
    const detail::GradReader<T> g(grad.data<T>(), info.grad_scale, info.clipvalue);
    const T rho_t = static_cast<T>(r), one_rho = static_cast<T>(1 - r);
    const T lr = static_cast<T>(info.lr), mu = static_cast<T>(mom), eps = static_cast<T>(epsilon_);
    const T wd = static_cast<T>(info.weight_decay * info.lr);
    detail::with_bool(info.weight_decay > 0, [&](auto decay) {
      detail::with_bool(centered_, [&](auto centered) {
        detail::with_bool(has_momentum_, [&](auto momentum) {
          detail::for_chunks(var.value().numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
            for (int64_t i = begin; i < end; ++i) {
              const T gi = g(i);
              if constexpr (decltype(decay)::value) p[i] -= p[i] * wd;
              const T ri = rho_t * rms[i] + one_rho * (gi * gi);
              rms[i] = ri;
              T denom = ri + eps;
              if constexpr (decltype(centered)::value) {
                const T mgi = rho_t * mg[i] + one_rho * gi;
                mg[i] = mgi;
                denom = ri - mgi * mgi + eps;
              }
              const T increment = lr * gi / std::sqrt(denom);
              if constexpr (decltype(momentum)::value) {
                const T moi = mu * mo[i] + increment;
                mo[i] = moi;
                p[i] -= moi;
              } else {
                p[i] -= increment;
              }
            }
          });
        });
      });
    });
  });
}

nlohmann::json RMSprop::get_config() const {
  nlohmann::json c = Optimizer::get_config();
  c["rho"] = rho();
  c["momentum"] = momentum();
  c["epsilon"] = epsilon_;
  c["centered"] = centered_;
  return c;
}

std::shared_ptr<RMSprop> RMSprop::from_config(const nlohmann::json& config) {
  detail::check_config_keys(config, "RMSprop", {"learning_rate", "rho", "momentum", "epsilon", "centered"});
  RMSpropOptions o;
  o.base() = detail::base_options_from_config(config, "RMSprop");
  o.learning_rate(detail::config_learning_rate(config, o.learning_rate(), "RMSprop"))
      .rho(detail::config_double(config, "rho", o.rho(), "RMSprop"))
      .momentum(detail::config_double(config, "momentum", o.momentum(), "RMSprop"))
      .epsilon(detail::config_double(config, "epsilon", o.epsilon(), "RMSprop"))
      .centered(detail::config_bool(config, "centered", o.centered(), "RMSprop"));
  return std::make_shared<RMSprop>(o);
}

}  // namespace keel::keras
