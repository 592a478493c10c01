// Trackable: a node of the object graph that checkpoints walk. It knows nothing of layers.
//
//   struct Counter : Trackable {
//     Variable steps{"steps", Tensor::scalar(0, DType::i64), false};
//     Counter() { track_variable("steps", steps); }
//   };
//   auto root = std::make_shared<Counter>();
//   child->track("optimizer", optimizer);        // named edges; names, never positions
//
// An object's children are its named edges to other Trackables or to Variables (leaves). Objects
// reachable along two paths are saved once (first path in breadth-first order). An optimizer-like
// object lists its slot variables; any object may carry non-tensor state (saved with Boost.Serialization
// into a string value). When a checkpoint is restored before a child exists (a layer that builds
// lazily), the value waits on the parent and is applied the moment track_variable()/track() adds it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/variable.h"

namespace keel {

class Trackable;

// One named edge: to a Trackable or to a Variable (exactly one is set).
struct TrackableChild {
  std::string name;
  std::shared_ptr<Trackable> object;
  Variable variable;
};

// A slot of an optimizer-like object: `slot` holds per-variable state for `original`.
struct SlotVariable {
  Variable original;
  std::string slot_name;  // "m", "v", "momentum", "rms", ...
  Variable slot;
};

class Trackable : public std::enable_shared_from_this<Trackable> {
 public:
  Trackable() = default;
  virtual ~Trackable();
  Trackable(const Trackable&) = delete;
  Trackable& operator=(const Trackable&) = delete;

  // Edges in a stable order. The default returns what was registered with track()/track_variable();
  // containers may override to name children by role (Keras's "layer_with_weights-0").
  virtual std::vector<TrackableChild> trackable_children() const;
  // Slot variables owned by this object (optimizers).
  virtual std::vector<SlotVariable> slot_variables() const { return {}; }
  // Called when a checkpoint holds a slot for `original` that this object has not created yet: the
  // object should create it (so that it can be restored). Default: ignore.
  virtual Variable create_slot_for_restore(const Variable& original, const std::string& slot_name);

  // Non-tensor state. Objects that have some return true from has_state() and write/read a
  // versioned string (Boost.Serialization text or binary archive).
  virtual bool has_state() const { return false; }
  virtual std::string save_state() const { return {}; }
  virtual void restore_state(const std::string& /*bytes*/) {}
  // Whether a restore must find this object's state: when false, the state is restored if the
  // checkpoint holds it, and its absence is not reported by assert_consumed() or
  // assert_existing_objects_matched() (a layer's dropout generator: not a weight, absent from Keras files).
  virtual bool state_required() const { return has_state(); }

  // Registers (or replaces) a named edge and runs a restore deferred under that name. Empty names
  // and null children are an error; any other name is fine ('/' and '.' are escaped in keys).
  void track(const std::string& name, std::shared_ptr<Trackable> child);
  void track_variable(const std::string& name, const Variable& v);
  void untrack(const std::string& name);
  const std::vector<TrackableChild>& tracked() const { return tracked_; }

  // Deferred restoration (used by the checkpoint reader). An action waits under a child name until
  // that child is tracked, then runs once with it.
  using DeferredVariableRestore = std::function<void(const Variable&)>;
  using DeferredObjectRestore = std::function<void(const std::shared_ptr<Trackable>&)>;
  void defer_variable_restore(const std::string& child_name, DeferredVariableRestore fn);
  void defer_object_restore(const std::string& child_name, DeferredObjectRestore fn);
  bool has_deferred() const { return !deferred_vars_.empty() || !deferred_objs_.empty(); }
  // Runs the deferred actions whose child now appears in trackable_children(). track() and
  // track_variable() do this themselves; containers that override trackable_children() call it
  // after they add a child.
  void resolve_deferred();
  void clear_deferred();

 private:
  std::vector<TrackableChild> tracked_;
  std::map<std::string, DeferredVariableRestore> deferred_vars_;
  std::map<std::string, DeferredObjectRestore> deferred_objs_;
};

// `t` as a shared_ptr: its owner's when a shared_ptr owns it, else a non-owning alias (an object on
// the stack, which must then outlive the pointer). For checkpoint roots built around a caller's object.
std::shared_ptr<Trackable> shared_or_alias(Trackable& t);

}  // namespace keel
