#include "keel/graph/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <type_traits>

#include "keel/graph/detail/small_pool.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"

namespace keel {

namespace {

// Tensor handles and storage headers come from the small-object pool: every op makes at least one.
std::shared_ptr<TensorImpl> new_impl() { return std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>()); }

std::shared_ptr<TensorImpl> make_impl(const Shape& shape, DType dtype, bool zero = true) {
  auto impl = new_impl();
  impl->numel = checked_numel(shape, "Tensor");
  impl->shape = shape;
  impl->dtype = dtype;
  try {
    impl->storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), dtype, impl->numel, zero);
  } catch (const AllocationError&) {
    throw AllocationError(detail::concat("Tensor: cannot allocate ", impl->numel * static_cast<int64_t>(dtype_size(dtype)),
                                         " bytes for ", shape_str(shape), " ", dtype_name(dtype)));
  }
  return impl;
}

template <class T>
void fill_typed(void* p, int64_t n, double v) {
  T* d = static_cast<T*>(p);
  const T tv = static_cast<T>(v);
  for (int64_t i = 0; i < n; ++i) d[i] = tv;
}

}  // namespace

int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> index) {
  KEEL_CHECK(index.size() == shape.size(), "Tensor::at: index of rank ", index.size(),
             " for tensor of shape ", shape_str(shape));
  int64_t flat = 0, k = 0;
  for (int64_t i : index) {
    KEEL_CHECK(i >= 0 && i < shape[k], "Tensor::at: index ", i, " out of range for dimension ", k,
               " of shape ", shape_str(shape));
    flat = flat * shape[k] + i;
    ++k;
  }
  return flat;
}

Tensor Tensor::empty(const Shape& shape, DType dtype) { return Tensor(make_impl(shape, dtype)); }
Tensor Tensor::zeros(const Shape& shape, DType dtype) { return Tensor(make_impl(shape, dtype)); }
Tensor Tensor::uninitialized(const Shape& shape, DType dtype) { return Tensor(make_impl(shape, dtype, false)); }
Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = uninitialized(shape, dtype);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(double start, double stop, double step, DType dtype) {
  KEEL_CHECK(step != 0, "arange: step is 0");
  KEEL_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step), "arange(", start, ", ", stop, ", ",
             step, "): start, stop and step must be finite");
  const double count = std::ceil((stop - start) / step);
  KEEL_CHECK(count < 9.2e18, "arange(", start, ", ", stop, ", ", step, "): ", count,
             " elements is more than a tensor can hold");
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  Tensor t = empty({n}, dtype);
  dispatch_numeric(dtype, "arange", [&](auto z) {
    using T = decltype(z);
    T* d = t.data<T>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(start + step * static_cast<double>(i));
  });
  return t;
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  Tensor t = empty(shape, dtype_of<T>());
  KEEL_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "Tensor::from_vector: ", values.size(),
             " values for shape ", shape_str(shape), " (", t.numel(), " elements)");
  T* d = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) d[i] = values[i];
  return t;
}
template Tensor Tensor::from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor Tensor::from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor Tensor::from_vector<int32_t>(const std::vector<int32_t>&, const Shape&);
template Tensor Tensor::from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template Tensor Tensor::from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&);
template Tensor Tensor::from_vector<std::string>(const std::vector<std::string>&, const Shape&);

template <>
Tensor Tensor::from_vector<bool>(const std::vector<bool>& values, const Shape& shape) {
  Tensor t = empty(shape, DType::boolean);
  KEEL_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "Tensor::from_vector: ", values.size(),
             " values for shape ", shape_str(shape), " (", t.numel(), " elements)");
  bool* d = t.data<bool>();
  for (size_t i = 0; i < values.size(); ++i) d[i] = values[i];
  return t;
}

Tensor Tensor::strings(const std::vector<std::string>& values, const Shape& shape) {
  return from_vector<std::string>(values, shape);
}

Tensor Tensor::uniform(const Shape& shape, Generator& gen, double low, double high, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_floating(dtype, "Tensor::uniform", [&](auto z) {
    using T = decltype(z);
    gen.fill_uniform(t.data<T>(), t.numel(), static_cast<T>(low), static_cast<T>(high));
  });
  return t;
}

Tensor Tensor::normal(const Shape& shape, Generator& gen, double mean, double stddev, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_floating(dtype, "Tensor::normal", [&](auto z) {
    using T = decltype(z);
    gen.fill_normal(t.data<T>(), t.numel(), static_cast<T>(mean), static_cast<T>(stddev));
  });
  return t;
}

Tensor Tensor::truncated_normal(const Shape& shape, Generator& gen, double mean, double stddev, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_floating(dtype, "Tensor::truncated_normal", [&](auto z) {
    using T = decltype(z);
    T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      T v;
      do {
        gen.fill_normal(&v, 1, T(0), T(1));
      } while (std::abs(static_cast<double>(v)) > 2.0);
      d[i] = static_cast<T>(mean + stddev * v);
    }
  });
  return t;
}

void Tensor::fail_undefined(const char* what) { KEEL_FAIL("Tensor::", what, ": tensor is undefined"); }

int64_t Tensor::size(int64_t axis) const { return shape()[normalize_axis(axis, dim(), "Tensor::size")]; }
size_t Tensor::nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
bool Tensor::same_storage(const Tensor& o) const {
  return defined() && o.defined() && impl_->storage == o.impl_->storage;
}

double Tensor::item_double() const { return item<double>(); }

const std::string& Tensor::str(int64_t i) const { return const_cast<Tensor*>(this)->str(i); }
std::string& Tensor::str(int64_t i) {
  KEEL_CHECK(i >= 0 && i < numel(), "Tensor::str: index ", i, " out of range for ", numel(), " elements");
  return data<std::string>()[i];
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype());
  t.copy_(detach());
  return t;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return clone();
  Tensor t = empty(shape(), target);
  const int64_t n = numel();
  KEEL_CHECK(target != DType::string && dtype() != DType::string, "Tensor::to: cannot convert ",
             dtype_name(dtype()), " to ", dtype_name(target));
  dispatch_numeric(dtype(), "Tensor::to", [&](auto zs) {
    using S = decltype(zs);
    const S* s = static_cast<const S*>(raw_data());
    dispatch_numeric(target, "Tensor::to", [&](auto zd) {
      using D = decltype(zd);
      D* d = t.data<D>();
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
    });
  });
  return t;
}

Tensor Tensor::detach() const {
  check_defined("detach");
  auto impl = new_impl();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->numel = impl_->numel;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::view(const Shape& s) const {
  Tensor t = detach();
  KEEL_CHECK(checked_numel(s, "Tensor::view") == numel(), "Tensor::view: cannot view shape ",
             shape_str(shape()), " as ", shape_str(s));
  t.impl_->shape = s;
  return t;
}

void Tensor::copy_(const Tensor& src) {
  check_defined("copy_");
  KEEL_CHECK(src.defined(), "Tensor::copy_: source is undefined");
  KEEL_CHECK(src.dtype() == dtype() && src.shape() == shape(), "Tensor::copy_: destination is ",
             shape_str(shape()), " ", dtype_name(dtype()), ", source is ", shape_str(src.shape()), " ",
             dtype_name(src.dtype()));
  if (same_storage(src)) return;
  bump_version();
  if (dtype() == DType::string) {
    for (int64_t i = 0; i < numel(); ++i) str(i) = src.str(i);
  } else if (nbytes()) {
    std::memcpy(raw_data(), src.raw_data(), nbytes());
  }
}

void Tensor::fill_(double value) {
  dispatch_numeric(dtype(), "Tensor::fill_", [&](auto z) {
    using T = decltype(z);
    // As torch.full: NaN, infinities and values past an integer type's range are refused.
    KEEL_CHECK(fits_dtype<T>(value), "Tensor::fill_: value ", value, " does not fit ", dtype_name(dtype()),
               " (tensor of shape ", shape_str(shape()), ")");
    bump_version();
    fill_typed<T>(raw_data(), numel(), value);
  });
}

bool Tensor::equal(const Tensor& o) const {
  if (!defined() || !o.defined()) return defined() == o.defined();
  if (dtype() != o.dtype() || shape() != o.shape()) return false;
  if (dtype() == DType::string) {
    for (int64_t i = 0; i < numel(); ++i)
      if (str(i) != o.str(i)) return false;
    return true;
  }
  return nbytes() == 0 || std::memcmp(raw_data(), o.raw_data(), nbytes()) == 0;
}


Tensor& Tensor::set_requires_grad(bool value) {
  static_cast<const Tensor*>(this)->set_requires_grad(value);
  return *this;
}
const Tensor& Tensor::set_requires_grad(bool value) const {
  check_defined("set_requires_grad");
  KEEL_CHECK(is_leaf(), "Tensor::set_requires_grad: only leaf tensors can be changed (this one was made by ",
             "an op)");
  KEEL_CHECK(!value || is_floating(impl_->dtype), "Tensor::set_requires_grad: only floating tensors can ",
             "require gradients, this one is ", dtype_name(impl_->dtype));
  impl_->requires_grad = value;
  return *this;
}

bool Tensor::is_leaf() const { return !impl_ || !impl_->grad_fn; }
const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_ ? impl_->grad_fn : none;
}
uint32_t Tensor::output_nr() const { return impl_ ? impl_->output_nr : 0; }
Tensor Tensor::grad() const { return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor(); }
void Tensor::zero_grad() const { if (impl_) impl_->grad.reset(); }
void Tensor::set_grad(const Tensor& g) const {
  check_defined("set_grad");
  impl_->grad = g.impl_ptr();
}

namespace {

template <class T>
void print_value(std::ostream& os, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    os << std::quoted(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    os << static_cast<int>(v);
  } else {
    os << v;
  }
}

template <class T>
void print_rec(std::ostream& os, const T* d, const Shape& s, size_t axis, int64_t max_per_dim) {
  if (axis == s.size()) { print_value(os, *d); return; }
  int64_t inner = 1;
  for (size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
  os << '[';
  const int64_t n = s[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_dim && i == max_per_dim / 2) {
      os << "..., ";
      i = n - max_per_dim / 2;
    }
    print_rec(os, d + i * inner, s, axis + 1, max_per_dim);
    if (i + 1 < n) os << ", ";
  }
  os << ']';
}

}  // namespace

std::string Tensor::to_string(int64_t max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(";
  if (dtype() == DType::string) {
    print_rec(os, static_cast<const std::string*>(raw_data()), shape(), 0, max_per_dim);
  } else {
    os << std::setprecision(6);
    dispatch_numeric(dtype(), "Tensor::to_string", [&](auto z) {
      using T = decltype(z);
      print_rec(os, static_cast<const T*>(raw_data()), shape(), 0, max_per_dim);
    });
  }
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (requires_grad()) os << ", requires_grad";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace keel

namespace keel {
void Tensor::add_(const Tensor& o) {
  check_defined("add_");
  KEEL_CHECK(o.defined() && o.dtype() == dtype() && o.shape() == shape(), "Tensor::add_: destination is ",
             shape_str(shape()), " ", dtype_name(dtype()), ", source is ",
             o.defined() ? shape_str(o.shape()) : "undefined", " ", o.defined() ? dtype_name(o.dtype()) : "");
  bump_version();
  dispatch_numeric(dtype(), "Tensor::add_", [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(raw_data());
    const T* s = static_cast<const T*>(o.raw_data());
    const int64_t n = numel();
    if constexpr (std::is_same_v<T, bool>) {
      for (int64_t i = 0; i < n; ++i) d[i] = d[i] || s[i];
    } else {
      for (int64_t i = 0; i < n; ++i) d[i] += s[i];
    }
  });
}
}  // namespace keel
