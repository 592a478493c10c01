#include "keel/graph/node.h"

#include <atomic>

namespace keel {

namespace {

std::atomic<uint64_t> g_sequence{0};
thread_local bool g_grad_enabled = true;
// Nodes whose last owner is a node being destroyed wait here, so that destroying a long chain is a
// loop, not a recursion.
thread_local std::vector<std::shared_ptr<Node>>* g_dying = nullptr;

}  // namespace

uint64_t next_sequence_nr() { return g_sequence.load(std::memory_order_relaxed); }

Node::Node(const char* name, uint32_t num_outputs)
    : name_(name), num_outputs_(num_outputs), sequence_nr_(g_sequence.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> local;
  const bool owner = g_dying == nullptr;
  if (owner) g_dying = &local;
  for (InputMeta& in : inputs())
    if (in.edge.node && in.edge.node.use_count() == 1) g_dying->push_back(std::move(in.edge.node));
  if (owner) {
    while (!local.empty()) {
      std::shared_ptr<Node> n = std::move(local.back());
      local.pop_back();
      n.reset();  // may push its own inputs onto `local`
    }
    g_dying = nullptr;
  }
}

void Node::set_num_inputs(size_t n) {
  if (n > kInlineInputs) {
    heap_inputs_.reset(new InputMeta[n]);
    inputs_ = heap_inputs_.get();
  } else {
    heap_inputs_.reset();
    inputs_ = inline_inputs_;
    for (InputMeta& in : inline_inputs_) in = InputMeta();
  }
  num_inputs_ = static_cast<uint32_t>(n);
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : Node("AccumulateGrad", 1), leaf_(leaf) {
  is_accumulate_grad_ = true;
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  auto leaf = leaf_.lock();
  if (!leaf || !grads[0].defined()) return {};
  if (!leaf->grad) {
    leaf->grad = grads[0].clone().impl_ptr();
  } else {
    Tensor(leaf->grad).add_(grads[0]);
  }
  return {};
}

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool enabled) { g_grad_enabled = enabled; }

bool should_record_any(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->grad_accumulator) impl->grad_accumulator = detail::make_node<AccumulateGrad>(t.impl_ptr());
  return {impl->grad_accumulator, 0};
}

InputMeta::InputMeta(Edge e, const Shape& shape, DType dt)
    : edge(std::move(e)), dtype(dt), rank_(static_cast<uint32_t>(shape.size())) {
  int64_t* d = dims_;
  if (shape.size() > kInlineRank) {
    big_.reset(new int64_t[shape.size()]);
    d = big_.get();
  }
  for (size_t i = 0; i < shape.size(); ++i) d[i] = shape[i];
}

Shape InputMeta::shape() const { return Shape(dims(), dims() + rank_); }

bool InputMeta::same_shape(const Shape& s) const {
  if (s.size() != rank_) return false;
  const int64_t* d = dims();
  for (size_t i = 0; i < rank_; ++i)
    if (s[i] != d[i]) return false;
  return true;
}

namespace detail {

void fail_released(const char* name) {
  KEEL_FAIL("backward through '", name, "' a second time: its saved values were freed after the first ",
            "backward (pass retain_graph=true, or use a persistent GradientTape)");
}

namespace {
template <class Inputs>
void attach(Node& node, const Inputs& inputs) {
  node.set_num_inputs(inputs.size());
  InputMeta* meta = node.inputs().begin();
  for (const Tensor& in : inputs) {
    if (in.defined()) *meta = InputMeta(gradient_edge(in), in.shape(), in.dtype());
    ++meta;
  }
}
}  // namespace

void attach_inputs(Node& node, const std::vector<Tensor>& inputs) { attach(node, inputs); }
void attach_inputs(Node& node, std::initializer_list<std::reference_wrapper<const Tensor>> inputs) {
  attach(node, inputs);
}

void attach_output(const std::shared_ptr<Node>& node, Tensor& out, uint32_t nr) {
  KEEL_CHECK(out.defined(), node->name(), ": recorded output is undefined");
  TensorImpl* impl = out.impl();
  KEEL_CHECK(!impl->grad_fn && !impl->requires_grad, node->name(),
             ": recorded output must be a fresh tensor, not an existing leaf or op result");
  impl->grad_fn = node;
  impl->output_nr = nr;
  impl->requires_grad = true;
}

}  // namespace detail

}  // namespace keel
