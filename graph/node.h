// The recorded graph: Node and Edge, and the recorder ops call.
//
// An op records a node only when recording is on (GradMode) and one of its inputs requires a
// gradient. The node keeps only what its backward reads (capture detached tensors or shapes in the
// lambda, never the inputs themselves, so that nodes do not keep each other alive through tensors).
//
//   Tensor mul(const Tensor& a, const Tensor& b) {
//     Tensor out = /* forward */;
//     if (should_record({a, b}))
//       record("mul", {a, b}, out, [a = a.detach(), b = b.detach()](const Tensor& g) {
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
#include <vector>

#include "keel/graph/tensor.h"

namespace keel {

class Node;

// Where a gradient flows: input `input_nr` of `node` (the producer's output slot).
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool valid() const { return node != nullptr; }
};

class Node {
 public:
  explicit Node(const char* name, uint32_t num_outputs = 1);
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // grads[i] is the gradient w.r.t. output i (undefined when nothing flowed there). Returns one
  // gradient per next_edges() entry.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Drops what backward would read (called after a non-retained backward).
  virtual void release() {}

  const char* name() const { return name_; }
  uint32_t num_outputs() const { return num_outputs_; }
  uint64_t sequence_nr() const { return sequence_nr_; }
  std::vector<Edge>& next_edges() { return next_edges_; }
  const std::vector<Edge>& next_edges() const { return next_edges_; }
  // Shapes/dtypes of the inputs, for the engine's check of returned gradients.
  std::vector<Shape>& input_shapes() { return input_shapes_; }
  std::vector<DType>& input_dtypes() { return input_dtypes_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const std::vector<DType>& input_dtypes() const { return input_dtypes_; }

  // Engine scratch (one backward at a time per graph).
  int64_t pending_ = 0;
  uint64_t epoch_ = 0;
  std::vector<Tensor> grad_buffer_;

 private:
  const char* name_;
  uint32_t num_outputs_;
  uint64_t sequence_nr_;
  std::vector<Edge> next_edges_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
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

// Records a single-output node producing `out` from `inputs`; marks `out` as requiring grad.
void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn fn);
// Same, for a braced list of inputs (no vector is built): record("add", {a, b}, out, fn).
void record(const char* name, std::initializer_list<std::reference_wrapper<const Tensor>> inputs, Tensor& out,
            BackwardFn fn);
// Records one node with several outputs (grad_outputs[i] may be undefined when output i got none).
void record_multi(const char* name, const std::vector<Tensor>& inputs, std::vector<Tensor*> outputs,
                  BackwardFnMulti fn);

}  // namespace keel
