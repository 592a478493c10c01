#include "keel/checkpoint/variables_match.h"

#include <map>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"
#include "keel/graph/error.h"

namespace keel {

std::map<std::string, std::string> stored_variable_keys(const BundleReader& reader, const std::string& prefix,
                                                        const std::string& what) {
  KEEL_CHECK(reader.contains(kObjectGraphKey), what, ": checkpoint ", prefix, " has no ", kObjectGraphKey);
  const Tensor g = reader.read(kObjectGraphKey);
  KEEL_CHECK(g.dtype() == DType::string && g.numel() == 1, what, ": ", kObjectGraphKey,
             " is not a string scalar (checkpoint ", prefix, ")");
  const auto stored = parse_object_graph(g.str(0), prefix);
  const auto paths = object_graph_paths(stored);
  std::map<std::string, std::string> key_of;
  for (int i = 0; i < stored.nodes_size(); ++i) {
    for (const auto& a : stored.nodes(i).attributes()) {
      if (a.name() == kVariableValueName && !paths[i].empty()) key_of[paths[i]] = a.checkpoint_key();
    }
  }
  return key_of;
}

void check_variables_match(const std::shared_ptr<Trackable>& root, const std::string& prefix,
                           const std::string& scope, const std::string& what) {
  BundleReader reader(prefix);
  const auto key_of = stored_variable_keys(reader, prefix, what);
  for (const auto& n : walk_live_graph(root)) {
    if (!n.variable.defined() || n.path.compare(0, scope.size(), scope) != 0) continue;
    const auto it = key_of.find(n.path);
    KEEL_CHECK(it != key_of.end() && reader.contains(it->second), what, ": '", n.path, "' (variable ",
               n.variable.name(), ", ", shape_str(n.variable.shape()), " ", dtype_name(n.variable.dtype()),
               ") is not in checkpoint ", prefix);
    const BundleEntry& e = reader.entry(it->second);
    KEEL_CHECK(e.dtype.has_value() && e.shape == n.variable.shape() && *e.dtype == n.variable.dtype(), what, ": '",
               n.path, "' (variable ", n.variable.name(), "): in memory ", shape_str(n.variable.shape()), " ",
               dtype_name(n.variable.dtype()), ", in the checkpoint ", shape_str(e.shape), " ",
               e.dtype ? dtype_name(*e.dtype) : tf_dtype_name(e.tf_dtype).c_str(), " (checkpoint ", prefix, ", key ",
               it->second, ")");
  }
}

}  // namespace keel
