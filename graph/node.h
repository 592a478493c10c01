// The recorded graph: Node and Edge, and the recorder ops call.
//
// An op records a node only when recording is on (GradMode) and one of its inputs requires a
// gradient. The node keeps only what its backward reads (capture SavedTensors or shapes in the lambda,
// never the inputs themselves, so that nodes do not keep each other alive through tensors). A
// SavedTensor (graph/saved_tensor.h) is a detached alias that refuses to be read in backward once its
// storage was written in place.
//
//   Tensor mul(const Tensor& a, const Tensor& b) {
//     Tensor out = /* forward */;
//     if (should_record({a, b}))
//       record("mul", {a, b}, out, [a = SavedTensor(a), b = SavedTensor(b)](const Tensor& g) {
//         return std::vector<Tensor>{mul(g, b), mul(g, a)};   // one per input, undefined = none
//       });
//     return out;
//   }
//
// Backward functions run with recording off and must return, for each input, an undefined Tensor or
// a gradient of exactly that input's shape and dtype (the engine checks and names the node).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "keel/graph/detail/small_pool.h"
#include "keel/graph/tensor.h"

namespace keel {

class Node;

// Where a gradient flows: input `input_nr` of `node` (the producer's output slot).
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool valid() const { return node != nullptr; }
};

// What a node keeps per input: where its gradient goes, and the input's shape and dtype (for the
// engine's check of returned gradients). Shapes of rank <= 4 are kept inline (no allocation).
class InputMeta {
 public:
  static constexpr size_t kInlineRank = 4;
  InputMeta() = default;
  InputMeta(Edge e, const Shape& shape, DType dtype);

  Edge edge;
  DType dtype = DType::f32;

  size_t rank() const { return rank_; }
  Shape shape() const;
  bool same_shape(const Shape& s) const;

 private:
  const int64_t* dims() const { return rank_ <= kInlineRank ? dims_ : big_.get(); }
  uint32_t rank_ = 0;
  int64_t dims_[kInlineRank] = {};
  std::unique_ptr<int64_t[]> big_;  // used when rank > kInlineRank
};

// A node's inputs as a fixed-size array (set once, when the node is recorded).
class InputList {
 public:
  InputList(InputMeta* data, size_t size) : data_(data), size_(size) {}
  InputMeta* begin() const { return data_; }
  InputMeta* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  InputMeta& operator[](size_t i) const { return data_[i]; }

 private:
  InputMeta* data_;
  size_t size_;
};

class Node {
 public:
  explicit Node(const char* name, uint32_t num_outputs = 1);
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // grads[i] is the gradient w.r.t. output i (undefined when nothing flowed there). Returns one
  // gradient per input (see inputs()).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Drops what backward would read (called after a non-retained backward).
  virtual void release() {}

  const char* name() const { return name_; }
  uint32_t num_outputs() const { return num_outputs_; }
  uint64_t sequence_nr() const { return sequence_nr_; }
  // One entry per recorded input: the edge its gradient flows along plus its shape and dtype.
  InputList inputs() const { return InputList(inputs_, num_inputs_); }
  // Sizes inputs() to `n` default (invalid) entries; called once, by the recorder. Up to
  // kInlineInputs live inside the node (no allocation).
  void set_num_inputs(size_t n);
  static constexpr size_t kInlineInputs = 2;
  // True for AccumulateGrad (the engine's test, instead of a dynamic_cast per node).
  bool is_accumulate_grad() const { return is_accumulate_grad_; }

  // Engine scratch (one backward at a time per graph): the gradient slot for output i. Single-output
  // nodes keep theirs inline; prepare_grad_slots() (re)sets them all to undefined.
  void prepare_grad_slots() {
    grad_single_ = Tensor();
    if (num_outputs_ > 1) {
      if (!grad_multi_) grad_multi_.reset(new Tensor[num_outputs_]);
      for (uint32_t i = 0; i < num_outputs_; ++i) grad_multi_[i] = Tensor();
    }
  }
  Tensor& grad_slot(uint32_t i) { return num_outputs_ == 1 ? grad_single_ : grad_multi_[i]; }
  int64_t pending_ = 0;
  uint64_t epoch_ = 0;

 protected:
  bool is_accumulate_grad_ = false;

 private:
  const char* name_;
  uint32_t num_outputs_;
  uint32_t num_inputs_ = 0;
  uint64_t sequence_nr_;
  InputMeta* inputs_ = inline_inputs_;
  Tensor grad_single_;
  std::unique_ptr<Tensor[]> grad_multi_;
  std::unique_ptr<InputMeta[]> heap_inputs_;  // when there are more than kInlineInputs
  InputMeta inline_inputs_[kInlineInputs];
};

// Node for a leaf that requires grad: accumulates into the leaf's grad() (or hands the gradient to
// a GradientTape that asked for this leaf).
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  std::shared_ptr<TensorImpl> leaf() const { return leaf_.lock(); }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The sequence_nr() the next recorded node will get (nodes are numbered in recording order).
uint64_t next_sequence_nr();

// Recording on/off for this thread.
class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Turns recording off for its lifetime (inference, optimizer updates, backward functions).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Turns recording back on inside a NoGradGuard.
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// True when recording is on and any defined input requires a gradient.
bool should_record_any(const std::vector<Tensor>& inputs);
inline bool should_record(std::initializer_list<std::reference_wrapper<const Tensor>> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// The edge a gradient for `t` should flow along (its grad_fn, or its leaf accumulator), or an invalid
// edge when `t` needs no gradient.
Edge gradient_edge(const Tensor& t);

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;
using BackwardFnMulti = std::function<std::vector<Tensor>(std::vector<Tensor>&& grad_outputs)>;

namespace detail {
[[noreturn]] void fail_released(const char* name);
// A single- or multi-output node holding its backward callable by value (inside the node's own
// allocation, however large the captures), so recording costs no std::function allocation.
template <class F, bool Multi>
class FnNode final : public Node {
 public:
  FnNode(const char* name, uint32_t outputs, F&& fn) : Node(name, outputs), fn_(std::move(fn)) {}
  FnNode(const char* name, uint32_t outputs, const F& fn) : Node(name, outputs), fn_(fn) {}
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (!live_) fail_released(name());
    if constexpr (Multi) {
      return fn_(std::move(grads));
    } else {
      return fn_(grads[0]);
    }
  }
  void release() override {
    if (live_) {
      live_ = false;
      F dead(std::move(fn_));  // destroys what the captures held (moved-from lambdas keep nothing)
    }
  }

 private:
  F fn_;
  bool live_ = true;
};
// A node and its shared_ptr control block in one pooled block (see graph/detail/small_pool.h).
template <class N, class... Args>
std::shared_ptr<N> make_node(Args&&... args) {
  return std::allocate_shared<N>(PoolAllocator<N>(), std::forward<Args>(args)...);
}
// Fills the node's inputs and marks the outputs as produced by it.
void attach_inputs(Node& node, const std::vector<Tensor>& inputs);
void attach_inputs(Node& node, std::initializer_list<std::reference_wrapper<const Tensor>> inputs);
void attach_output(const std::shared_ptr<Node>& node, Tensor& out, uint32_t nr);
}  // namespace detail

// Records a single-output node producing `out` from `inputs`; marks `out` as requiring grad. `fn` is
// any callable `std::vector<Tensor>(const Tensor& grad_output)` (a lambda or a BackwardFn).
template <class F>
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, F&& fn) {
  auto node = detail::make_node<detail::FnNode<std::decay_t<F>, false>>(name, 1, std::forward<F>(fn));
  detail::attach_inputs(*node, inputs);
  detail::attach_output(node, out, 0);
}
// Same, for a braced list of inputs (no vector is built): record("add", {a, b}, out, fn).
template <class F>
void record(const char* name, std::initializer_list<std::reference_wrapper<const Tensor>> inputs, Tensor& out,
            F&& fn) {
  auto node = detail::make_node<detail::FnNode<std::decay_t<F>, false>>(name, 1, std::forward<F>(fn));
  detail::attach_inputs(*node, inputs);
  detail::attach_output(node, out, 0);
}
// Records one node with several outputs (grad_outputs[i] may be undefined when output i got none);
// `fn` is any callable `std::vector<Tensor>(std::vector<Tensor>&& grad_outputs)`.
template <class F>
void record_multi(const char* name, const std::vector<Tensor>& inputs, std::vector<Tensor*> outputs, F&& fn) {
  auto node = detail::make_node<detail::FnNode<std::decay_t<F>, true>>(name, static_cast<uint32_t>(outputs.size()),
                                                                      std::forward<F>(fn));
  detail::attach_inputs(*node, inputs);
  for (size_t i = 0; i < outputs.size(); ++i) detail::attach_output(node, *outputs[i], static_cast<uint32_t>(i));
}

}  // namespace keel
