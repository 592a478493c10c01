#include "keel/keras/optimizers/adam.h"

#include <cmath>

#include "keel/keras/optimizers/kernel_util.h"

namespace keel::keras {

Adam::Adam(const AdamOptions& o)
    : Optimizer(o.base(), "Adam", o.learning_rate()),
      beta_1_(make_hyper("beta_1", o.beta_1())),
      beta_2_(make_hyper("beta_2", o.beta_2())),
      epsilon_(o.epsilon()),
      amsgrad_(o.amsgrad()) {}

std::vector<std::string> Adam::slot_names() const {
  if (amsgrad_) return {"m", "v", "vhat"};
  return {"m", "v"};
}

void Adam::update_step(const Tensor& grad, const Variable& var, const std::vector<Variable>& slots,
                       const StepInfo& info) {
  const double b1 = beta_1(), b2 = beta_2();
  const double t = static_cast<double>(info.step);
  const double alpha = info.lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
  dispatch_floating(var.dtype(), "Adam", [&](auto z) {
    using T = decltype(z);
    T* p = detail::mutable_data<T>(var.value());
    T* m = detail::mutable_data<T>(slots[0].value());
    T* v = detail::mutable_data<T>(slots[1].value());
    T* vhat = amsgrad_ ? detail::mutable_data<T>(slots[2].value()) : nullptr;
    const detail::GradReader<T> g(grad.data<T>(), info.grad_scale, info.clipvalue);
    const T one_b1 = static_cast<T>(1 - b1), one_b2 = static_cast<T>(1 - b2);
    const T a = static_cast<T>(alpha), eps = static_cast<T>(epsilon_);
    const T wd = static_cast<T>(info.weight_decay * info.lr);
    detail::with_bool(info.weight_decay > 0, [&](auto decay) {
      detail::with_bool(amsgrad_, [&](auto ams) {
        detail::for_chunks(var.value().numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
          for (int64_t i = begin; i < end; ++i) {
            const T gi = g(i);
            if constexpr (decltype(decay)::value) p[i] -= p[i] * wd;
            const T mi = m[i] + (gi - m[i]) * one_b1;
            const T vi = v[i] + (gi * gi - v[i]) * one_b2;
            m[i] = mi;
            v[i] = vi;
            T vv = vi;
            if constexpr (decltype(ams)::value) {
              vv = vhat[i] > vi ? vhat[i] : vi;
              vhat[i] = vv;
            }
            p[i] -= (mi * a) / (std::sqrt(vv) + eps);
          }
        });
      });
    });
  });
}

nlohmann::json Adam::get_config() const {
  nlohmann::json c = Optimizer::get_config();
  c["beta_1"] = beta_1();
  c["beta_2"] = beta_2();
  c["epsilon"] = epsilon_;
  c["amsgrad"] = amsgrad_;
  return c;
}

std::shared_ptr<Adam> Adam::from_config(const nlohmann::json& config) {
  detail::check_config_keys(config, "Adam", {"learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"});
  AdamOptions o;
  o.base() = detail::base_options_from_config(config, "Adam");
  o.learning_rate(detail::config_learning_rate(config, o.learning_rate(), "Adam"))
      .beta_1(detail::config_double(config, "beta_1", o.beta_1(), "Adam"))
      .beta_2(detail::config_double(config, "beta_2", o.beta_2(), "Adam"))
      .epsilon(detail::config_double(config, "epsilon", o.epsilon(), "Adam"))
      .amsgrad(detail::config_bool(config, "amsgrad", o.amsgrad(), "Adam"));
  return std::make_shared<Adam>(o);
}

}  // namespace keel::keras
