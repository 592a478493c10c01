// Tensor: a dtype, a shape, and contiguous row-major storage shared by reference.
// Copying a Tensor aliases (like libtorch); clone() copies the data.
//
//   Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
//   Tensor w = Tensor::zeros({2, 2}).set_requires_grad(true);
//   float v = x.at<float>({1, 0});       // 3
//   std::cout << x;                       // Tensor([[1, 2], [3, 4]], shape=[2,2], dtype=f32)
//
// Autodiff: a tensor produced by an op while some input requires a gradient carries grad_fn(), the
// recorded Node. backward() (defined in autodiff/) runs reverse mode from a scalar and accumulates into
// grad() of the leaves that require it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/dtype.h"
#include "keel/graph/error.h"
#include "keel/graph/shape.h"
#include "keel/graph/storage.h"

namespace keel {

class Node;
class Generator;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined tensor; defined() is false

  // ---- factories
  static Tensor empty(const Shape& shape, DType dtype = DType::f32);  // zero-filled, like zeros
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  // Numeric contents left unset (strings are empty): only for code that writes every element before
  // anyone reads it (op outputs); zero-filling a 1024x1024 product costs ~10% of the matmul.
  static Tensor uninitialized(const Shape& shape, DType dtype = DType::f32);
  static Tensor ones(const Shape& shape, DType dtype = DType::f32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
  static Tensor scalar(double value, DType dtype = DType::f32);  // rank-0
  static Tensor arange(double start, double stop, double step = 1, DType dtype = DType::f32);
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  template <class T>
  static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<int64_t>(values.size())});
  }
  static Tensor strings(const std::vector<std::string>& values, const Shape& shape);
  // Random factories draw from `gen` (counter-based: the same generator state gives the same values).
  static Tensor uniform(const Shape& shape, Generator& gen, double low = 0, double high = 1,
                        DType dtype = DType::f32);
  static Tensor normal(const Shape& shape, Generator& gen, double mean = 0, double stddev = 1,
                       DType dtype = DType::f32);
  static Tensor truncated_normal(const Shape& shape, Generator& gen, double mean = 0, double stddev = 1,
                                 DType dtype = DType::f32);  // redraws beyond 2 stddev, like Keras

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  DType dtype() const;
  const Shape& shape() const;
  int64_t dim() const;
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const;
  size_t nbytes() const;
  bool same_storage(const Tensor& other) const;

  // ---- data
  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data();
  const void* raw_data() const;
  template <class T> T item() const;  // numel must be 1; converts numeric dtypes to T
  template <class T> T at(std::initializer_list<int64_t> index) const;
  double item_double() const;        // any numeric dtype as double
  template <class T> std::vector<T> to_vector() const;  // exact dtype match required
  const std::string& str(int64_t flat_index) const;     // string dtype
  std::string& str(int64_t flat_index);

  Tensor clone() const;                    // new storage, same values, no autodiff history
  Tensor to(DType dtype) const;            // converted copy (not recorded)
  Tensor detach() const;                   // same storage, no autodiff history
  Tensor view(const Shape& shape) const;   // same storage, another shape of equal numel (not recorded)
  void copy_(const Tensor& src);           // in place; shapes and dtypes must match exactly
  void fill_(double value);
  void add_(const Tensor& other);          // in place, same shape and dtype (plain kernel, f32/f64/ints)
  bool equal(const Tensor& other) const;   // same dtype, shape and bytes (bitwise for floats)
  // In-place writes to the storage so far (copy_, fill_, add_, Variable::assign, optimizer updates,
  // checkpoint reads; see SavedTensor). Code that writes an existing tensor through data<T>() or
  // raw_data() after an op may have recorded it calls bump_version(); writing a new op output does not.
  uint64_t version() const;
  void bump_version() const;

  // ---- autodiff
  bool requires_grad() const;
  // Marks a leaf as wanting a gradient. Non-leaf tensors cannot be changed.
  Tensor& set_requires_grad(bool value = true);
  const Tensor& set_requires_grad(bool value = true) const;
  bool is_leaf() const;                    // no grad_fn
  const std::shared_ptr<Node>& grad_fn() const;
  uint32_t output_nr() const;
  Tensor grad() const;                     // accumulated gradient of a leaf (undefined until backward)
  void zero_grad() const;                  // drops the accumulated gradient
  void set_grad(const Tensor& g) const;
  // Reverse mode from this tensor. Without a seed the tensor must be a scalar (numel 1) and the seed is 1.
  // The recorded graph is freed afterwards unless retain_graph. Implemented in autodiff/.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;

  std::string to_string(int64_t max_per_dim = 6) const;
  // Internal: used by the recorder and the engine.
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  void check_defined(const char* what) const {
    if (__builtin_expect(impl_ == nullptr, 0)) fail_undefined(what);
  }
  [[noreturn]] static void fail_undefined(const char* what);
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// What a Tensor handle points at. Internal to keel, visible for the recorder and engine.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  int64_t numel = 0;
  DType dtype = DType::f32;
  bool requires_grad = false;
  uint32_t output_nr = 0;
  std::shared_ptr<Node> grad_fn;          // producer, for non-leaf tensors
  std::shared_ptr<Node> grad_accumulator; // for leaves that require grad, created on first recording
  std::shared_ptr<TensorImpl> grad;       // accumulated gradient (leaves)
};

// ---- inline definitions (every op calls these several times)
inline DType Tensor::dtype() const { check_defined("dtype"); return impl_->dtype; }
inline const Shape& Tensor::shape() const { check_defined("shape"); return impl_->shape; }
inline int64_t Tensor::dim() const { return static_cast<int64_t>(shape().size()); }
inline int64_t Tensor::numel() const { check_defined("numel"); return impl_->numel; }
inline void* Tensor::raw_data() { check_defined("raw_data"); return impl_->storage->data(); }
inline const void* Tensor::raw_data() const { check_defined("raw_data"); return impl_->storage->data(); }
inline uint64_t Tensor::version() const { check_defined("version"); return impl_->storage->version(); }
inline void Tensor::bump_version() const { check_defined("bump_version"); impl_->storage->bump_version(); }
inline bool Tensor::requires_grad() const { return defined() && impl_->requires_grad; }

// ---- template definitions
template <class T>
T* Tensor::data() {
  check_defined("data");
  KEEL_CHECK(impl_->dtype == dtype_of<T>(), "Tensor::data: tensor is ", dtype_name(impl_->dtype),
             ", asked for ", dtype_name(dtype_of<T>()));
  return static_cast<T*>(impl_->storage->data());
}
template <class T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template <class T>
T Tensor::item() const {
  KEEL_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape_str(shape()), " has ", numel(),
             " elements, not 1");
  return dispatch_numeric(dtype(), "Tensor::item", [&](auto z) {
    using S = decltype(z);
    return static_cast<T>(static_cast<const S*>(raw_data())[0]);
  });
}
int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> index);  // checked
template <class T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  const int64_t i = flat_index(shape(), index);
  return dispatch_numeric(dtype(), "Tensor::at", [&](auto z) {
    using S = decltype(z);
    return static_cast<T>(static_cast<const S*>(raw_data())[i]);
  });
}
template <class T>
std::vector<T> Tensor::to_vector() const {
  const T* p = data<T>();
  return std::vector<T>(p, p + numel());
}

}  // namespace keel
