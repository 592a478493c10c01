// The reverse-mode engine: dependency counting over the reachable nodes, then a ready-list walk.
// Both passes use explicit stacks, so chain length is bounded only by memory.
#include "keel/autodiff/backward.h"

#include <atomic>
#include <unordered_map>

#include "keel/graph/saved_tensor.h"

namespace keel {

namespace {

std::atomic<uint64_t> g_epoch{0};

// Sum of two gradients for the same slot: out of place, since either may alias saved values.
Tensor sum_grads(const Tensor& a, const Tensor& b) {
  Tensor out = a.clone();
  out.add_(b);
  return out;
}

struct Capture {
  // (node, output slot) -> index in the result
  std::unordered_map<const Node*, std::vector<std::pair<uint32_t, size_t>>> at;
  std::vector<Tensor>* results = nullptr;
};

void check_grad(const Node& n, size_t i, const Tensor& g) {
  const InputMeta& want = n.inputs()[i];
  KEEL_CHECK(want.same_shape(g.shape()) && g.dtype() == want.dtype, "backward of '", n.name(),
             "': gradient for input ", i, " is ", shape_str(g.shape()), " ", dtype_name(g.dtype()), ", input is ",
             shape_str(want.shape()), " ", dtype_name(want.dtype));
}

// Without retain_graph, each node run releases its saved values, except nodes numbered from `keep_from`
// on (still needed by another live GradientTape).
void run(const std::vector<Edge>& roots, std::vector<Tensor> root_grads, bool retain_graph, Capture* capture,
         uint64_t keep_from = UINT64_MAX) {
  const uint64_t epoch = g_epoch.fetch_add(1) + 1;
  // Pass 1: count, for each reachable node, the edges that point at it.
  std::vector<Node*> stack;
  for (const Edge& e : roots) {
    if (!e.node) continue;
    Node* n = e.node.get();
    if (n->epoch_ != epoch) {
      n->epoch_ = epoch;
      n->pending_ = 0;
      stack.push_back(n);
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    n->prepare_grad_slots();
    for (InputMeta& in : n->inputs()) {
      Edge& e = in.edge;
      if (!e.node) continue;
      Node* m = e.node.get();
      if (m->epoch_ != epoch) {
        m->epoch_ = epoch;
        m->pending_ = 0;
        stack.push_back(m);
      }
      ++m->pending_;
    }
  }
  // Seed the roots.
  std::vector<std::shared_ptr<Node>> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Edge& e = roots[i];
    if (!e.node) continue;
    Tensor& slot = e.node->grad_slot(e.input_nr);
    slot = slot.defined() ? sum_grads(slot, root_grads[i]) : root_grads[i];
  }
  for (const Edge& e : roots)
    if (e.node && e.node->pending_ == 0) {
      e.node->pending_ = -1;  // queued
      ready.push_back(e.node);
    }
  // Pass 2: run each node once all gradients for it have arrived. `grads` is reused across nodes
  // (apply() takes it by rvalue reference; a node that moves it away leaves it to be refilled).
  std::vector<Tensor> grads;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    grads.resize(node->num_outputs());
    for (uint32_t k = 0; k < node->num_outputs(); ++k) grads[k] = std::move(node->grad_slot(k));
    if (capture) {
      auto it = capture->at.find(node.get());
      if (it != capture->at.end())
        for (auto [slot, index] : it->second)
          if (grads[slot].defined()) (*capture->results)[index] = grads[slot];
    }
    if (node->is_accumulate_grad() && capture) continue;  // grad(): leaves' .grad is not touched
    bool any = false;
    for (const Tensor& g : grads) any = any || g.defined();
    std::vector<Tensor> in_grads;
    if (any) {
      NoGradGuard no_grad;
      try {
        in_grads = node->apply(std::move(grads));
      } catch (const SavedTensorModified& e) {
        KEEL_FAIL("backward through '", node->name(), "': ", e.what());
      }
    }
    if (!retain_graph && node->sequence_nr() < keep_from) node->release();
    grads.clear();
    const InputList edges = node->inputs();
    KEEL_CHECK(in_grads.empty() || in_grads.size() == edges.size(), "backward of '", node->name(),
               "': returned ", in_grads.size(), " gradients for ", edges.size(), " inputs");
    for (size_t i = 0; i < edges.size(); ++i) {
      Edge& e = edges[i].edge;
      if (!e.node) continue;
      if (i < in_grads.size() && in_grads[i].defined()) {
        check_grad(*node, i, in_grads[i]);
        Tensor& slot = e.node->grad_slot(e.input_nr);
        slot = slot.defined() ? sum_grads(slot, in_grads[i]) : std::move(in_grads[i]);
      }
      if (--e.node->pending_ == 0) {
        e.node->pending_ = -1;
        ready.push_back(e.node);
      }
    }
  }
}

Tensor default_seed(const Tensor& root, const Tensor& seed, const char* what) {
  if (seed.defined()) {
    KEEL_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype(), what, ": seed gradient is ",
               shape_str(seed.shape()), " ", dtype_name(seed.dtype()), ", root is ", shape_str(root.shape()),
               " ", dtype_name(root.dtype()));
    return seed;
  }
  KEEL_CHECK(root.numel() == 1, what, ": root of shape ", shape_str(root.shape()),
             " is not a scalar; pass a seed gradient of that shape");
  return Tensor::ones(root.shape(), root.dtype());
}

}  // namespace

void backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  KEEL_CHECK(root.defined(), "backward: root tensor is undefined");
  KEEL_CHECK(root.requires_grad(), "backward: root tensor of shape ", shape_str(root.shape()),
             " does not require a gradient (no input to it requires one, or it was computed with recording off)");
  Tensor s = default_seed(root, seed, "backward");
  run({gradient_edge(root)}, {s}, retain_graph, nullptr);
}

std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& sources, const Tensor& seed,
                         bool retain_graph, bool zeros_for_unconnected) {
  return detail::grad_keeping(root, sources, seed, retain_graph, zeros_for_unconnected, UINT64_MAX);
}

namespace detail {
std::vector<Tensor> grad_keeping(const Tensor& root, const std::vector<Tensor>& sources, const Tensor& seed,
                                 bool retain_graph, bool zeros_for_unconnected, uint64_t keep_from) {
  KEEL_CHECK(root.defined(), "grad: root tensor is undefined");
  std::vector<Tensor> results(sources.size());
  if (root.requires_grad()) {
    Capture cap;
    cap.results = &results;
    for (size_t i = 0; i < sources.size(); ++i) {
      KEEL_CHECK(sources[i].defined(), "grad: source ", i, " is undefined");
      Edge e = gradient_edge(sources[i]);
      if (e.node) cap.at[e.node.get()].push_back({e.input_nr, i});
    }
    Tensor s = default_seed(root, seed, "grad");
    run({gradient_edge(root)}, {s}, retain_graph, &cap, keep_from);
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    if (results[i].defined()) {
      // Hand out tensors the caller owns: a captured gradient may share storage with the seed (the
      // caller's output_gradient) or with another result (add hands the same g to both inputs), so copy
      // those; the rest are fresh and only lose their history.
      const Storage* st = results[i].impl()->storage.get();
      bool shared = seed.defined() && seed.impl()->storage.get() == st;
      for (size_t j = 0; j < i && !shared; ++j) shared = results[j].defined() && results[j].impl()->storage.get() == st;
      results[i] = shared ? results[i].clone() : results[i].detach();
    } else if (zeros_for_unconnected) {
      results[i] = Tensor::zeros(sources[i].shape(), sources[i].dtype());
    }
  }
  return results;
}
}  // namespace detail

void Tensor::backward(const Tensor& seed, bool retain_graph) const { keel::backward(*this, seed, retain_graph); }

}  // namespace keel
