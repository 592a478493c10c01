#include "keel/graph/node.h"

#include <atomic>

namespace keel {

namespace {

std::atomic<uint64_t> g_sequence{0};
thread_local bool g_grad_enabled = true;
// Nodes whose last owner is a node being destroyed wait here, so that destroying a long chain is a
// loop, not a recursion.
thread_local std::vector<std::shared_ptr<Node>>* g_dying = nullptr;

class LambdaNode final : public Node {
 public:
  LambdaNode(const char* name, BackwardFn fn) : Node(name, 1), single_(std::move(fn)) {}
  LambdaNode(const char* name, uint32_t outputs, BackwardFnMulti fn) : Node(name, outputs), multi_(std::move(fn)) {}

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    if (single_) return single_(grads[0]);
    if (multi_) return multi_(std::move(grads));
    KEEL_FAIL("backward through '", name(), "' a second time: its saved values were freed after the first ",
              "backward (pass retain_graph=true, or use a persistent GradientTape)");
  }
  void release() override {
    single_ = nullptr;
    multi_ = nullptr;
  }

 private:
  BackwardFn single_;
  BackwardFnMulti multi_;
};

}  // namespace

Node::Node(const char* name, uint32_t num_outputs)
    : name_(name), num_outputs_(num_outputs), sequence_nr_(g_sequence.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> local;
  const bool owner = g_dying == nullptr;
  if (owner) g_dying = &local;
  for (Edge& e : next_edges_)
    if (e.node && e.node.use_count() == 1) g_dying->push_back(std::move(e.node));
  if (owner) {
    while (!local.empty()) {
      std::shared_ptr<Node> n = std::move(local.back());
      local.pop_back();
      n.reset();  // may push its own inputs onto `local`
    }
    g_dying = nullptr;
  }
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : Node("AccumulateGrad", 1), leaf_(leaf) {}

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
  if (!impl->grad_accumulator) impl->grad_accumulator = std::make_shared<AccumulateGrad>(t.impl_ptr());
  return {impl->grad_accumulator, 0};
}

namespace {
template <class Inputs>
void attach_inputs(Node& node, const Inputs& inputs) {
  node.next_edges().reserve(inputs.size());
  node.input_shapes().reserve(inputs.size());
  node.input_dtypes().reserve(inputs.size());
  for (const Tensor& in : inputs) {
    node.next_edges().push_back(gradient_edge(in));
    node.input_shapes().push_back(in.defined() ? in.shape() : Shape{});
    node.input_dtypes().push_back(in.defined() ? in.dtype() : DType::f32);
  }
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
}  // namespace

void record(const char* name, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn fn) {
  auto node = std::make_shared<LambdaNode>(name, std::move(fn));
  attach_inputs(*node, inputs);
  attach_output(node, out, 0);
}

void record(const char* name, std::initializer_list<std::reference_wrapper<const Tensor>> inputs, Tensor& out,
            BackwardFn fn) {
  auto node = std::make_shared<LambdaNode>(name, std::move(fn));
  attach_inputs(*node, inputs);
  attach_output(node, out, 0);
}

void record_multi(const char* name, const std::vector<Tensor>& inputs, std::vector<Tensor*> outputs,
                  BackwardFnMulti fn) {
  auto node = std::make_shared<LambdaNode>(name, static_cast<uint32_t>(outputs.size()), std::move(fn));
  attach_inputs(*node, inputs);
  for (size_t i = 0; i < outputs.size(); ++i) attach_output(node, *outputs[i], static_cast<uint32_t>(i));
}

}  // namespace keel
