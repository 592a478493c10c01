#include "keel/checkpoint/trackable.h"

#include "keel/graph/error.h"

namespace keel {

Trackable::~Trackable() = default;

std::vector<TrackableChild> Trackable::trackable_children() const { return tracked_; }

Variable Trackable::create_slot_for_restore(const Variable& /*original*/, const std::string& /*slot_name*/) {
  return Variable();
}

namespace {
void check_child_name(const std::string& name, const char* what) {
  KEEL_CHECK(!name.empty(), "Trackable::", what, ": empty child name");
}
}  // namespace

namespace {
// Replaces the edge of the same name, or appends a new one (registration order is kept).
void upsert(std::vector<TrackableChild>& edges, const TrackableChild& edge) {
  for (auto& c : edges) {
    if (c.name == edge.name) {
      c = edge;
      return;
    }
  }
  edges.push_back(edge);
}
}  // namespace

void Trackable::track(const std::string& name, std::shared_ptr<Trackable> child) {
  check_child_name(name, "track");
  KEEL_CHECK(child != nullptr, "Trackable::track: child '", name, "' is null");
  TrackableChild edge{name, child, Variable()};
  upsert(tracked_, edge);
  auto it = deferred_objs_.find(name);
  if (it != deferred_objs_.end()) {
    DeferredObjectRestore fn = std::move(it->second);
    deferred_objs_.erase(it);
    fn(child);
  }
}

void Trackable::track_variable(const std::string& name, const Variable& v) {
  check_child_name(name, "track_variable");
  KEEL_CHECK(v.defined(), "Trackable::track_variable: variable '", name, "' is undefined");
  TrackableChild edge{name, nullptr, v};
  upsert(tracked_, edge);
  auto it = deferred_vars_.find(name);
  if (it != deferred_vars_.end()) {
    DeferredVariableRestore fn = std::move(it->second);
    deferred_vars_.erase(it);
    fn(v);
  }
}

void Trackable::untrack(const std::string& name) {
  for (auto it = tracked_.begin(); it != tracked_.end(); ++it) {
    if (it->name == name) {
      tracked_.erase(it);
      return;
    }
  }
}

void Trackable::defer_variable_restore(const std::string& child_name, DeferredVariableRestore fn) {
  check_child_name(child_name, "defer_variable_restore");
  deferred_vars_[child_name] = std::move(fn);
}

void Trackable::defer_object_restore(const std::string& child_name, DeferredObjectRestore fn) {
  check_child_name(child_name, "defer_object_restore");
  deferred_objs_[child_name] = std::move(fn);
}

void Trackable::resolve_deferred() {
  if (!has_deferred()) return;
  for (const auto& c : trackable_children()) {
    if (c.object) {
      auto it = deferred_objs_.find(c.name);
      if (it == deferred_objs_.end()) continue;
      DeferredObjectRestore fn = std::move(it->second);
      deferred_objs_.erase(it);
      fn(c.object);
    } else if (c.variable.defined()) {
      auto it = deferred_vars_.find(c.name);
      if (it == deferred_vars_.end()) continue;
      DeferredVariableRestore fn = std::move(it->second);
      deferred_vars_.erase(it);
      fn(c.variable);
    }
  }
}

void Trackable::clear_deferred() {
  deferred_vars_.clear();
  deferred_objs_.clear();
}

std::shared_ptr<Trackable> shared_or_alias(Trackable& t) {
  if (auto owned = t.weak_from_this().lock()) return owned;
  return std::shared_ptr<Trackable>(std::shared_ptr<Trackable>(), &t);
}

}  // namespace keel
