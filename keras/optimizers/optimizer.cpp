#include "keel/keras/optimizers/optimizer.h"

#include <algorithm>
#include <cmath>

#include "keel/graph/error.h"
#include "keel/graph/node.h"
#include "keel/keras/optimizers/kernel_util.h"

namespace keel::keras {

namespace {

// Sum of squares of a floating tensor in double, in fixed chunks summed in order, so the result does
// not depend on the thread count.
double sum_of_squares(const Tensor& t) {
  const int64_t n = t.numel();
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  dispatch_floating(t.dtype(), "Optimizer: gradient norm", [&](auto z) {
    using T = decltype(z);
    const T* p = t.data<T>();
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
      double s = 0;
      const int64_t end = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) s += static_cast<double>(p[i]) * static_cast<double>(p[i]);
      partial[static_cast<size_t>(c)] = s;
    }
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

std::string var_label(const Variable& v) { return v.defined() ? "'" + v.name() + "'" : "<undefined variable>"; }

}  // namespace

double Optimizer::Hyper::value() const {
  const float stored = var.value().item<float>();
  return static_cast<float>(config) == stored ? config : static_cast<double>(stored);
}

Optimizer::Optimizer(OptimizerBaseOptions base, std::string default_name, const LearningRate& learning_rate)
    : base_(std::move(base)), schedule_(learning_rate.schedule()) {
  if (base_.name.empty()) base_.name = std::move(default_name);
  KEEL_CHECK(!(base_.clipnorm && base_.global_clipnorm), base_.name,
             ": at most one of clipnorm and global_clipnorm can be set, got clipnorm=", *base_.clipnorm,
             ", global_clipnorm=", *base_.global_clipnorm);
  iterations_ = Variable("iter", Tensor::scalar(0, DType::i64), /*trainable=*/false);
  // With a schedule, the variable holds the value of the step about to be taken (schedule(0) for now).
  const double lr0 = schedule_ ? static_cast<double>(static_cast<float>((*schedule_)(0))) : learning_rate.value();
  learning_rate_ = Variable("learning_rate", Tensor::scalar(lr0, DType::f32), false);
  track_variable("iter", iterations_);
  track_variable("learning_rate", learning_rate_);
}

Optimizer::~Optimizer() = default;

Optimizer::Hyper Optimizer::make_hyper(const std::string& name, double value) {
  Hyper h{value, Variable(name, Tensor::scalar(value, DType::f32), /*trainable=*/false)};
  track_variable(name, h.var);
  return h;
}

int64_t Optimizer::iterations_value() const { return iterations_.value().item<int64_t>(); }
double Optimizer::learning_rate() const { return learning_rate_.value().item<double>(); }
void Optimizer::set_learning_rate(double lr) {
  KEEL_CHECK(!schedule_, name(), ": this optimizer was created with a LearningRateSchedule (", schedule_->class_name(),
             ") as its learning_rate, hence its learning rate is not settable; create it with a float learning_rate "
             "to set it");
  learning_rate_.assign(Tensor::scalar(lr, DType::f32));
}

Optimizer::Entry& Optimizer::entry_for(const Variable& var) {
  auto it = index_.find(var.id());
  if (it != index_.end()) return entries_[it->second];
  index_.emplace(var.id(), entries_.size());
  entries_.push_back(Entry{var, std::vector<Variable>(slot_names().size())});
  return entries_.back();
}

Variable Optimizer::make_slot(const Variable& var, const std::string& slot_name) {
  return Variable(name() + "/" + var.name() + "/" + slot_name,
                  Tensor::full(var.shape(), slot_initial_value(slot_name), var.dtype()), /*trainable=*/false);
}

Variable Optimizer::get_slot(const Variable& var, const std::string& slot_name) const {
  auto it = index_.find(var.id());
  if (it == index_.end()) return Variable();
  const auto names = slot_names();
  for (size_t k = 0; k < names.size(); ++k)
    if (names[k] == slot_name) return entries_[it->second].slots[k];
  return Variable();
}

std::vector<Variable> Optimizer::slotted_variables() const {
  std::vector<Variable> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.var);
  return out;
}

std::vector<SlotVariable> Optimizer::slot_variables() const {
  const auto names = slot_names();
  std::vector<SlotVariable> out;
  for (const auto& e : entries_)
    for (size_t k = 0; k < names.size(); ++k)
      if (e.slots[k].defined()) out.push_back(SlotVariable{e.var, names[k], e.slots[k]});
  return out;
}

Variable Optimizer::create_slot_for_restore(const Variable& original, const std::string& slot_name) {
  KEEL_CHECK(original.defined(), name(), ": create_slot_for_restore: undefined variable for slot '", slot_name, "'");
  const auto names = slot_names();
  auto pos = std::find(names.begin(), names.end(), slot_name);
  if (pos == names.end()) return Variable();  // a slot this configuration does not use
  Entry& e = entry_for(original);
  Variable& slot = e.slots[static_cast<size_t>(pos - names.begin())];
  if (!slot.defined()) slot = make_slot(original, slot_name);
  return slot;
}

void Optimizer::apply_gradients(const std::vector<Tensor>& grads, const std::vector<Variable>& vars) {
  KEEL_CHECK(grads.size() == vars.size(), name(), ": apply_gradients: ", grads.size(), " gradients for ",
             vars.size(), " variables");
  NoGradGuard no_grad;
  bool any = false;
  for (size_t i = 0; i < grads.size(); ++i) {
    KEEL_CHECK(vars[i].defined(), name(), ": apply_gradients: variable #", i, " is undefined");
    if (!grads[i].defined()) continue;
    any = true;
    const Variable& v = vars[i];
    KEEL_CHECK(is_floating(v.dtype()), name(), ": variable ", var_label(v), " is ", dtype_name(v.dtype()),
               ", not floating point");
    KEEL_CHECK(grads[i].dtype() == v.dtype() && grads[i].shape() == v.shape(), name(), ": variable ",
               var_label(v), " is ", shape_str(v.shape()), " ", dtype_name(v.dtype()), ", its gradient is ",
               shape_str(grads[i].shape()), " ", dtype_name(grads[i].dtype()));
  }
  if (!any) {
    std::string names;
    for (const auto& v : vars) names += (names.empty() ? "" : ", ") + v.name();
    KEEL_FAIL(name(), ": no gradients provided for any variable: [", names, "]");
  }

  if (schedule_) {
    // As Keras: the schedule at the current iterations, before they increment; float32 as the variable.
    const double scheduled = (*schedule_)(iterations_value());
    detail::mutable_data<float>(learning_rate_.value())[0] = static_cast<float>(scheduled);
  }
  StepInfo info;
  info.lr = learning_rate();
  info.step = iterations_value() + 1;
  // As Keras's _clip_gradients: a clipnorm or global_clipnorm of 0 is not set.
  const bool clipnorm_set = base_.clipnorm && *base_.clipnorm > 0;
  const bool global_clipnorm_set = base_.global_clipnorm && *base_.global_clipnorm > 0;
  if (!clipnorm_set && !global_clipnorm_set && base_.clipvalue && *base_.clipvalue > 0)
    info.clipvalue = *base_.clipvalue;
  if (base_.weight_decay && *base_.weight_decay > 0) info.weight_decay = *base_.weight_decay;
  double global_scale = 1.0;
  if (global_clipnorm_set) {
    double ss = 0;
    for (const auto& g : grads)
      if (g.defined()) ss += sum_of_squares(g);
    const double c = *base_.global_clipnorm;
    global_scale = c / std::max(std::sqrt(ss), c);
  }

  const auto names = slot_names();
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    Entry& e = entry_for(vars[i]);
    for (size_t k = 0; k < names.size(); ++k)
      if (!e.slots[k].defined()) e.slots[k] = make_slot(vars[i], names[k]);
    info.grad_scale = global_scale;
    if (clipnorm_set) {
      const double c = *base_.clipnorm;
      info.grad_scale = c / std::max(std::sqrt(sum_of_squares(grads[i])), c);
    }
    update_step(grads[i], vars[i], e.slots, info);
  }
  detail::mutable_data<int64_t>(iterations_.value())[0] += 1;
}

nlohmann::json Optimizer::get_config() const {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json c;
  c["name"] = name();
  c["weight_decay"] = opt(base_.weight_decay);
  c["clipnorm"] = opt(base_.clipnorm);
  c["global_clipnorm"] = opt(base_.global_clipnorm);
  c["clipvalue"] = opt(base_.clipvalue);
  c["use_ema"] = false;
  c["ema_momentum"] = 0.99;
  c["ema_overwrite_frequency"] = nullptr;
  c["jit_compile"] = false;
  c["is_legacy_optimizer"] = false;
  c["learning_rate"] = schedule_ ? serialize_learning_rate_schedule(*schedule_) : nlohmann::json(learning_rate());
  return c;
}

}  // namespace keel::keras
