// The object graph of a checkpoint, both sides (used by Checkpoint; public for tools and tests).
//
//   auto live = walk_live_graph(root);               // BFS: ids, first-found paths, slots appended
//   tf::TrackableObjectGraph g = build_object_graph(live);
//   std::string bytes = serialize_object_graph(g);   // deterministic
//   auto back = parse_object_graph(bytes, "ckpt-3"); // validated: node ids in range, sizes bounded
//   std::cout << describe_object_graph(back);        // one line per node, for keel-ckpt graph
//
// Node numbering follows TensorFlow: breadth-first from the root over trackable_children() in their
// order, an object reachable twice keeps its first id and path, then one node per slot variable:
// for each optimizer-like object in node order, for each slot name in the order the object lists
// them, for each original variable in node order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "keel/checkpoint/proto/trackable_object_graph.pb.h"
#include "keel/checkpoint/trackable.h"

namespace keel {

struct LiveNode {
  std::shared_ptr<Trackable> object;  // exactly one of object / variable is set
  Variable variable;
  std::string path;                   // escaped object path ("" for the root)
  struct Edge {
    std::string local_name;
    int node_id;
  };
  std::vector<Edge> children;
  struct Slot {
    int original_node_id;
    std::string slot_name;
    int slot_node_id;
  };
  std::vector<Slot> slots;            // on optimizer-like objects
  bool is_slot = false;
  const void* identity() const { return object ? static_cast<const void*>(object.get()) : variable.id(); }
};

// Throws when a slot variable is also a regular node or owns children (as TF does).
std::vector<LiveNode> walk_live_graph(const std::shared_ptr<Trackable>& root);

// Attributes: VARIABLE_VALUE for variables (full_name = Variable::name()), KEEL_STATE
// (optional_restore) for objects with has_state(); has_checkpoint_values on every node.
tf::TrackableObjectGraph build_object_graph(const std::vector<LiveNode>& nodes);

std::string serialize_object_graph(const tf::TrackableObjectGraph& g);

// Writes the whole live graph under `root` as a tensor bundle at exactly `prefix`: the object graph
// under _CHECKPOINTABLE_OBJECT_GRAPH, every variable value and every object's state. Durable on return.
void write_graph_bundle(const std::shared_ptr<Trackable>& root, const std::string& prefix);
// `file` names the checkpoint in errors. Rejects out-of-range node ids and oversized input.
tf::TrackableObjectGraph parse_object_graph(const std::string& bytes, const std::string& file);

// First-found BFS paths of a stored graph (slot nodes named by the slot scheme; "" if unreachable).
std::vector<std::string> object_graph_paths(const tf::TrackableObjectGraph& g);
// Which nodes have values themselves or below them (computed, not read from has_checkpoint_values).
std::vector<bool> object_graph_has_values(const tf::TrackableObjectGraph& g);

std::string describe_object_graph(const tf::TrackableObjectGraph& g);

}  // namespace keel
