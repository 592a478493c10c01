#include "keel/graph/variable.h"

namespace keel {

Variable::Variable(std::string name, const Tensor& initial, bool trainable) : impl_(std::make_shared<Impl>()) {
  KEEL_CHECK(initial.defined(), "Variable '", name, "': initial value is undefined");
  impl_->name = std::move(name);
  impl_->trainable = trainable && is_floating(initial.dtype());
  impl_->value = initial.clone();
  if (impl_->trainable) impl_->value.set_requires_grad(true);
}

const std::string& Variable::name() const {
  KEEL_CHECK(impl_, "Variable: undefined variable");
  return impl_->name;
}
bool Variable::trainable() const {
  KEEL_CHECK(impl_, "Variable: undefined variable");
  return impl_->trainable;
}
const Tensor& Variable::value() const {
  KEEL_CHECK(impl_, "Variable: undefined variable");
  return impl_->value;
}

void Variable::assign(const Tensor& v) const {
  KEEL_CHECK(impl_, "Variable::assign: undefined variable");
  KEEL_CHECK(v.defined(), "Variable '", impl_->name, "': assigned an undefined tensor");
  const Tensor& cur = impl_->value;
  KEEL_CHECK(v.shape() == cur.shape() && v.dtype() == cur.dtype(), "Variable '", impl_->name,
             "': variable has ", shape_str(cur.shape()), " ", dtype_name(cur.dtype()), ", value has ",
             shape_str(v.shape()), " ", dtype_name(v.dtype()));
  Tensor dst = cur.detach();
  dst.copy_(v.detach());
}

void Variable::reset(const Tensor& v) const {
  KEEL_CHECK(impl_, "Variable::reset: undefined variable");
  impl_->value = v.clone();
  if (impl_->trainable) impl_->value.set_requires_grad(true);
}

}  // namespace keel
