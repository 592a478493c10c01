// Reverse mode over the recorded graph.
//
//   keel::backward(loss);                          // same as loss.backward()
//   auto g = keel::grad(loss, {w.value(), b.value()});   // gradients without touching .grad()
//
// Traversal uses an explicit stack (no recursion), so chains of any length are fine. Gradients
// accumulate where a value fans out. The graph is released afterwards unless retain_graph.
#pragma once

#include <cstdint>
#include <vector>

#include "keel/graph/node.h"
#include "keel/graph/tensor.h"

namespace keel {

// Backward from `root` with `seed` (defaults to ones for a scalar root; required otherwise).
// Accumulates into grad() of the leaves that require grad.
void backward(const Tensor& root, const Tensor& seed = Tensor(), bool retain_graph = false);

// Gradients of `root` w.r.t. each of `sources` (undefined where root does not depend on it, or zeros
// when `zeros_for_unconnected`). Leaves' grad() is not touched. The caller owns the returned tensors:
// none shares storage with another or with `seed` (those are copied; the others are handed out as is).
std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& sources,
                         const Tensor& seed = Tensor(), bool retain_graph = false,
                         bool zeros_for_unconnected = false);

namespace detail {
// grad() that, without retain_graph, releases only the nodes numbered below `keep_from`: the rest were
// recorded while another GradientTape was live, and that tape may still differentiate through them.
std::vector<Tensor> grad_keeping(const Tensor& root, const std::vector<Tensor>& sources, const Tensor& seed,
                                 bool retain_graph, bool zeros_for_unconnected, uint64_t keep_from);
}  // namespace detail

}  // namespace keel
