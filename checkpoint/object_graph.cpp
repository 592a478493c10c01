#include "keel/checkpoint/object_graph.h"

#include <algorithm>
#include <deque>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sstream>
#include <unordered_map>

#include "keel/checkpoint/object_path.h"
#include "keel/graph/error.h"

namespace keel {

std::vector<LiveNode> walk_live_graph(const std::shared_ptr<Trackable>& root) {
  KEEL_CHECK(root != nullptr, "checkpoint: the root object is null");
  std::vector<LiveNode> nodes;
  std::unordered_map<const void*, int> ids;
  LiveNode r;
  r.object = root;
  nodes.push_back(r);
  ids[root.get()] = 0;
  std::deque<int> queue{0};
  while (!queue.empty()) {
    const int id = queue.front();
    queue.pop_front();
    if (!nodes[id].object) continue;
    const auto children = nodes[id].object->trackable_children();
    for (const auto& c : children) {
      const void* key = c.object ? static_cast<const void*>(c.object.get()) : c.variable.id();
      if (key == nullptr) continue;  // an empty edge: nothing to save
      auto it = ids.find(key);
      int child_id;
      if (it == ids.end()) {
        child_id = static_cast<int>(nodes.size());
        LiveNode n;
        n.object = c.object;
        if (!c.object) n.variable = c.variable;
        n.path = child_path(nodes[id].path, c.name);
        ids[key] = child_id;
        nodes.push_back(std::move(n));
        queue.push_back(child_id);
      } else {
        child_id = it->second;
      }
      nodes[id].children.push_back({c.name, child_id});
    }
  }
  // Slot variables, appended after every regular node.
  const size_t regular = nodes.size();
  for (size_t opt = 0; opt < regular; ++opt) {
    if (!nodes[opt].object) continue;
    const auto slots = nodes[opt].object->slot_variables();
    if (slots.empty()) continue;
    std::vector<std::string> slot_names;
    for (const auto& s : slots) {
      bool seen = false;
      for (const auto& n : slot_names) seen = seen || n == s.slot_name;
      if (!seen) slot_names.push_back(s.slot_name);
    }
    for (const auto& name : slot_names) {
      for (size_t var = 0; var < regular; ++var) {
        if (!nodes[var].variable.defined()) continue;
        for (const auto& s : slots) {
          if (s.slot_name != name || !s.original.is(nodes[var].variable) || !s.slot.defined()) continue;
          KEEL_CHECK(ids.find(s.slot.id()) == ids.end(), "checkpoint: slot '", name, "' of '",
                     nodes[var].path, "' (optimizer '", nodes[opt].path,
                     "') is also tracked as a regular object; slot variables must not be");
          const int slot_id = static_cast<int>(nodes.size());
          LiveNode n;
          n.variable = s.slot;
          n.is_slot = true;
          n.path = slot_path(nodes[var].path, nodes[opt].path, name);
          ids[s.slot.id()] = slot_id;
          nodes.push_back(std::move(n));
          nodes[opt].slots.push_back({static_cast<int>(var), name, slot_id});
        }
      }
    }
  }
  return nodes;
}

tf::TrackableObjectGraph build_object_graph(const std::vector<LiveNode>& nodes) {
  tf::TrackableObjectGraph g;
  for (const auto& n : nodes) {
    auto* p = g.add_nodes();
    for (const auto& e : n.children) {
      auto* ref = p->add_children();
      ref->set_node_id(e.node_id);
      ref->set_local_name(e.local_name);
    }
    if (n.variable.defined()) {
      auto* a = p->add_attributes();
      a->set_name(kVariableValueName);
      a->set_full_name(n.variable.name());
      a->set_checkpoint_key(variable_key(n.path));
    } else if (n.object && n.object->has_state()) {
      auto* a = p->add_attributes();
      a->set_name(kStateAttributeName);
      a->set_checkpoint_key(attribute_key(n.path, kStateAttributeName));
      a->set_optional_restore(true);
    }
    for (const auto& s : n.slots) {
      auto* ref = p->add_slot_variables();
      ref->set_original_variable_node_id(s.original_node_id);
      ref->set_slot_name(s.slot_name);
      ref->set_slot_variable_node_id(s.slot_node_id);
    }
  }
  const auto has = object_graph_has_values(g);
  for (int i = 0; i < g.nodes_size(); ++i) g.mutable_nodes(i)->mutable_has_checkpoint_values()->set_value(has[i]);
  return g;
}

std::string serialize_object_graph(const tf::TrackableObjectGraph& g) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    g.SerializeToCodedStream(&coded);
  }
  return out;
}

namespace {

// How each node's first-found path is made: from its BFS parent and edge name, or (a slot node) from
// its variable's path, its optimizer's path and the slot name. Steps come in an order in which every
// path a step reads is already made.
struct PathStep {
  int node, from, optimizer;  // optimizer < 0: a child edge from `from`; else a slot of variable `from`
  const std::string* name;
};

std::vector<PathStep> path_steps(const tf::TrackableObjectGraph& g) {
  const int n = g.nodes_size();
  std::vector<PathStep> steps;
  if (n == 0) return steps;
  std::vector<bool> seen(n, false);
  std::deque<int> queue{0};
  seen[0] = true;
  while (!queue.empty()) {
    const int id = queue.front();
    queue.pop_front();
    for (const auto& c : g.nodes(id).children()) {
      const int child = c.node_id();
      if (child < 0 || child >= n || seen[child]) continue;
      seen[child] = true;
      steps.push_back({child, id, -1, &c.local_name()});
      queue.push_back(child);
    }
  }
  for (int id = 0; id < n; ++id) {
    for (const auto& s : g.nodes(id).slot_variables()) {
      const int var = s.original_variable_node_id(), slot = s.slot_variable_node_id();
      if (var < 0 || var >= n || slot < 0 || slot >= n || seen[slot]) continue;
      seen[slot] = true;
      steps.push_back({slot, var, id, &s.slot_name()});
    }
  }
  return steps;
}

// Bytes the paths of path_steps(g) take, without making them (a deep chain of long names makes paths
// quadratic in the graph's size).
uint64_t path_bytes(const tf::TrackableObjectGraph& g) {
  std::vector<uint64_t> len(g.nodes_size(), 0);
  uint64_t total = 0;
  for (const PathStep& st : path_steps(g)) {
    const uint64_t name = escape_local_name(*st.name).size();
    len[st.node] = st.optimizer < 0
                       ? (len[st.from] == 0 ? name : len[st.from] + 1 + name)
                       : len[st.from] + len[st.optimizer] + name + 3 + std::string(kOptimizerSlotSegment).size();
    total += len[st.node];
  }
  return total;
}

}  // namespace

tf::TrackableObjectGraph parse_object_graph(const std::string& bytes, const std::string& file) {
  constexpr size_t kMaxBytes = size_t{1} << 30;
  KEEL_CHECK(bytes.size() <= kMaxBytes, file, ": object graph ", kObjectGraphKey, " is ", bytes.size(),
             " bytes, more than the 1 GiB keel accepts");
  tf::TrackableObjectGraph g;
  KEEL_CHECK(g.ParseFromString(bytes), file, ": object graph ", kObjectGraphKey,
             " is not a valid TrackableObjectGraph (", bytes.size(), " bytes)");
  KEEL_CHECK(g.nodes_size() > 0, file, ": object graph ", kObjectGraphKey, " has no nodes");
  const int n = g.nodes_size();
  auto check_id = [&](int id, int node, const char* what) {
    KEEL_CHECK(id >= 0 && id < n, file, ": object graph node ", node, ": ", what, " ", id,
               " is out of range (", n, " nodes)");
  };
  for (int i = 0; i < n; ++i) {
    const auto& node = g.nodes(i);
    for (const auto& c : node.children()) check_id(c.node_id(), i, "child node id");
    for (const auto& s : node.slot_variables()) {
      check_id(s.original_variable_node_id(), i, "slot original_variable_node_id");
      check_id(s.slot_variable_node_id(), i, "slot_variable_node_id");
    }
  }
  // Real graphs are shallow, so their paths take a few times the graph's bytes; 64x, or 256 MiB for a
  // small graph, leaves room for any model and stops a chain built to exhaust memory.
  const uint64_t budget = std::max<uint64_t>(uint64_t{256} << 20, uint64_t{64} * bytes.size());
  const uint64_t need = path_bytes(g);
  KEEL_CHECK(need <= budget, file, ": object graph ", kObjectGraphKey, " (", n, " nodes, ", bytes.size(),
             " bytes) has object paths of ", need, " bytes in all, more than the ", budget,
             " keel accepts for a graph of that size");
  return g;
}

std::vector<std::string> object_graph_paths(const tf::TrackableObjectGraph& g) {
  std::vector<std::string> paths(g.nodes_size());
  for (const PathStep& st : path_steps(g)) {
    paths[st.node] = st.optimizer < 0 ? child_path(paths[st.from], *st.name)
                                      : slot_path(paths[st.from], paths[st.optimizer], *st.name);
  }
  return paths;
}

std::vector<bool> object_graph_has_values(const tf::TrackableObjectGraph& g) {
  const int n = g.nodes_size();
  std::vector<bool> has(n, false);
  std::vector<std::vector<int>> parents(n);
  std::deque<int> queue;
  for (int id = 0; id < n; ++id) {
    const auto& node = g.nodes(id);
    for (const auto& c : node.children()) {
      if (c.node_id() >= 0 && c.node_id() < n) parents[c.node_id()].push_back(id);
    }
    if (node.attributes_size() > 0 || node.slot_variables_size() > 0 || node.has_registered_saver()) {
      has[id] = true;
      queue.push_back(id);
    }
  }
  while (!queue.empty()) {
    const int id = queue.front();
    queue.pop_front();
    for (int p : parents[id]) {
      if (!has[p]) {
        has[p] = true;
        queue.push_back(p);
      }
    }
  }
  return has;
}

std::string describe_object_graph(const tf::TrackableObjectGraph& g) {
  const auto paths = object_graph_paths(g);
  std::ostringstream os;
  for (int id = 0; id < g.nodes_size(); ++id) {
    const auto& node = g.nodes(id);
    os << "#" << id << " " << (id == 0 ? "(root)" : paths[id].empty() ? "(unreachable)" : paths[id]);
    if (node.has_has_checkpoint_values() && !node.has_checkpoint_values().value()) os << " [no values]";
    os << "\n";
    for (const auto& c : node.children()) os << "    child " << c.local_name() << " -> #" << c.node_id() << "\n";
    for (const auto& a : node.attributes()) {
      os << "    attr " << a.name() << " = " << a.checkpoint_key();
      if (!a.full_name().empty()) os << " (full_name " << a.full_name() << ")";
      if (a.optional_restore()) os << " optional";
      os << "\n";
    }
    for (const auto& s : node.slot_variables()) {
      os << "    slot " << s.slot_name() << " of #" << s.original_variable_node_id() << " -> #"
         << s.slot_variable_node_id() << "\n";
    }
    if (node.has_registered_saver()) {
      os << "    registered_saver " << node.registered_saver().name() << " "
         << node.registered_saver().object_name() << "\n";
    }
  }
  return os.str();
}

}  // namespace keel
