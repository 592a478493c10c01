// Internal: the restore side of Checkpoint. Matches a stored TrackableObjectGraph to live objects
// by walking edges from the root, restores values, and defers what does not exist yet on the parent
// (Trackable::defer_*). Kept alive by the CheckpointLoadStatus and by pending deferred actions.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/trackable.h"

namespace keel::detail {

class Restorer : public std::enable_shared_from_this<Restorer> {
 public:
  explicit Restorer(const std::string& prefix);
  void restore_into(const std::shared_ptr<Trackable>& root);

  const std::string& prefix() const { return prefix_; }
  std::vector<std::string> unused_checkpoint_keys() const;
  std::vector<std::string> unmatched_checkpoint_objects() const;
  // Live objects holding values (variables, objects with state) below `root` that matched nothing.
  std::vector<std::string> unmatched_live_objects(const std::shared_ptr<Trackable>& root) const;
  std::vector<std::string> unrestored_matched_keys() const;  // values of matched objects not restored
  size_t restored_count() const { return restored_keys_.size(); }
  // Stored objects with values whose live object did not exist at restore and has not been created
  // since (their values wait in deferred actions; a save made now would not hold them).
  size_t pending_count() const;
  // Stored objects matched to live ones, besides the root and its save_counter child.
  size_t nontrivial_matches() const;

 private:
  struct SlotRef {
    int optimizer_node;
    int original_node;
    std::string slot_name;
    int slot_node;
  };
  struct Work {
    int node;
    std::shared_ptr<Trackable> object;
    std::string path;
  };
  // Runs `match` (which matches objects and queues their values), then checks every queued value
  // (shape, dtype and checksum) before assigning any: a failed restore changes no variable and no
  // object's state. Nested calls join the outer batch.
  template <class F>
  void batch(F&& match);
  void apply_pending();
  void match_objects(std::vector<Work> work);
  void match_one(const Work& w, std::vector<Work>& queue);
  void defer(int node, const std::shared_ptr<Trackable>& parent, const std::string& name,
             const std::string& path);
  void restore_variable(int node, const Variable& v, const std::string& path);
  void try_slot(const SlotRef& ref);
  bool is_new_optimizer_layout(int node, const std::vector<TrackableChild>& live) const;
  int resolve_slot_owner(int slot_node, const std::string& slot_name, int list_index, int list_size) const;
  const tf::TrackableObjectGraph::TrackableObject::SerializedTensor* value_attribute(int node) const;

  std::string prefix_;
  std::shared_ptr<BundleReader> reader_;
  tf::TrackableObjectGraph graph_;
  std::vector<std::string> paths_;         // stored BFS paths
  std::vector<bool> has_values_;
  std::vector<std::string> live_paths_;    // live path of each matched node
  std::vector<char> matched_;
  // Weak: deferred actions stored in live objects hold this Restorer, so strong references back
  // would form a cycle.
  std::vector<std::weak_ptr<Trackable>> node_object_;
  std::vector<Variable> node_variable_;
  std::set<const void*> live_matched_;
  std::set<std::string> restored_keys_;
  std::map<int, std::vector<SlotRef>> pending_slots_;  // by original variable node
  std::vector<int> deferred_;              // nodes whose live object did not exist when matched
  std::vector<int> owner_candidates_;      // variable nodes outside optimizers, in node order
  std::unordered_map<std::string, int> owner_by_name_;  // their full names (-1: a name several share)
  struct PendingRead {
    std::string key, path;
    Variable variable;
  };
  struct PendingState {
    std::weak_ptr<Trackable> object;
    std::string key, path, bytes;
  };
  bool batching_ = false;
  std::vector<PendingRead> pending_reads_;
  std::vector<PendingState> pending_states_;
};

}  // namespace keel::detail
