#include "keel/checkpoint/restore.h"

#include <deque>

#include "keel/checkpoint/object_path.h"
#include "keel/graph/error.h"

namespace keel::detail {
namespace {

using TfObject = tf::TrackableObjectGraph::TrackableObject;

// Keras >= 2.11 optimizers: slot lists by child name, and names the older layout used instead.
struct SlotList {
  const char* child;
  const char* slot;
};
constexpr SlotList kSlotLists[] = {{"_momentums", "m"},       {"_velocities", "v"},
                                   {"_velocity_hats", "vhat"}, {"momentums", "momentum"},
                                   {"_accumulators", "accumulator"}};
const char* slot_list_name(const std::string& child) {
  for (const auto& s : kSlotLists) {
    if (child == s.child) return s.slot;
  }
  return nullptr;
}
// Edges of the newer layout whose contents are reached through other edges.
bool skipped_new_layout_edge(const std::string& child) { return child == "_variables" || child == "_index_dict"; }
std::vector<std::string> new_layout_aliases(const std::string& child) {
  std::vector<std::string> out;
  if (child == "_iterations") out = {"iter", "iterations"};
  if (child.size() > 1 && child[0] == '_') out.push_back(child.substr(1));
  return out;
}

const TrackableChild* find_child(const std::vector<TrackableChild>& live, const std::string& name) {
  for (const auto& c : live) {
    if (c.name == name && (c.object || c.variable.defined())) return &c;
  }
  return nullptr;
}

}  // namespace

Restorer::Restorer(const std::string& prefix) : prefix_(prefix) {
  reader_ = std::make_shared<BundleReader>(prefix);
  KEEL_CHECK(reader_->contains(kObjectGraphKey), "restore: '", prefix, "' has no ", kObjectGraphKey,
             " (a name-based TF1 checkpoint?); object-based restore needs it");
  const BundleEntry& e = reader_->entry(kObjectGraphKey);
  KEEL_CHECK(e.dtype == DType::string && e.shape.empty(), "restore: '", prefix, "': ", kObjectGraphKey,
             " is ", tf_dtype_name(e.tf_dtype), " ", shape_str(e.shape), ", expected a string scalar");
  Tensor g = reader_->read(kObjectGraphKey);
  graph_ = parse_object_graph(g.str(0), prefix);
  paths_ = object_graph_paths(graph_);
  has_values_ = object_graph_has_values(graph_);
  const int n = graph_.nodes_size();
  live_paths_.resize(n);
  matched_.resize(n, 0);
  node_object_.resize(n);
  node_variable_.resize(n);
  // Variables that can own a slot: those not below an optimizer-like node, in node order.
  std::vector<bool> in_optimizer(n, false);
  std::deque<int> queue;
  for (int id = 0; id < n; ++id) {
    for (const auto& c : graph_.nodes(id).children()) {
      if (c.local_name() == "_iterations" || c.local_name() == "iter") {
        in_optimizer[id] = true;
        queue.push_back(id);
        break;
      }
    }
  }
  while (!queue.empty()) {
    const int id = queue.front();
    queue.pop_front();
    for (const auto& c : graph_.nodes(id).children()) {
      if (!in_optimizer[c.node_id()]) {
        in_optimizer[c.node_id()] = true;
        queue.push_back(c.node_id());
      }
    }
  }
  for (int id = 0; id < n; ++id) {
    if (!in_optimizer[id] && value_attribute(id) != nullptr) owner_candidates_.push_back(id);
  }
  for (int id : owner_candidates_) {
    const auto [it, fresh] = owner_by_name_.emplace(value_attribute(id)->full_name(), id);
    if (!fresh) it->second = -1;  // a name two variables share identifies neither
  }
}

const TfObject::SerializedTensor* Restorer::value_attribute(int node) const {
  for (const auto& a : graph_.nodes(node).attributes()) {
    if (a.name() == kVariableValueName) return &a;
  }
  return nullptr;
}

template <class F>
void Restorer::batch(F&& match) {
  if (batching_) {
    match();
    return;
  }
  batching_ = true;
  try {
    match();
    apply_pending();
  } catch (...) {
    batching_ = false;
    pending_reads_.clear();
    pending_states_.clear();
    throw;
  }
  batching_ = false;
}

void Restorer::apply_pending() {
  // Everything is checked first (the checksums mean reading every value once), then assigned.
  for (const auto& r : pending_reads_) reader_->verify(r.key);
  std::vector<PendingRead> reads = std::move(pending_reads_);
  std::vector<PendingState> states = std::move(pending_states_);
  pending_reads_.clear();
  pending_states_.clear();
  for (const auto& r : reads) {
    Tensor dst = r.variable.value().detach();
    reader_->read_into(r.key, dst, r.path);
    restored_keys_.insert(r.key);
  }
  for (const auto& st : states) {
    if (auto object = st.object.lock()) {
      object->restore_state(st.bytes);
      restored_keys_.insert(st.key);
    }
  }
}

void Restorer::restore_into(const std::shared_ptr<Trackable>& root) {
  batch([&] { match_objects({Work{0, root, ""}}); });
}

void Restorer::match_objects(std::vector<Work> work) {
  std::vector<Work> queue = std::move(work);
  for (size_t i = 0; i < queue.size(); ++i) {
    const Work w = queue[i];  // copy: match_one appends
    match_one(w, queue);
  }
}

bool Restorer::is_new_optimizer_layout(int node, const std::vector<TrackableChild>& live) const {
  for (const auto& c : graph_.nodes(node).children()) {
    if (c.local_name() == "_iterations") return find_child(live, "_iterations") == nullptr;
  }
  return false;
}

void Restorer::match_one(const Work& w, std::vector<Work>& queue) {
  const int node = w.node;
  if (matched_[node]) return;                        // matched along an earlier path
  if (live_matched_.count(w.object.get())) return;  // live object taken by another node
  matched_[node] = 1;
  node_object_[node] = w.object;
  live_paths_[node] = w.path;
  live_matched_.insert(w.object.get());
  const TfObject& proto = graph_.nodes(node);

  for (const auto& a : proto.attributes()) {
    if (a.name() != kStateAttributeName || !w.object->has_state()) continue;
    Tensor s = reader_->read(a.checkpoint_key());
    KEEL_CHECK(s.dtype() == DType::string && s.numel() == 1, "restore: '", w.path, "' (key ",
               a.checkpoint_key(), "): state must be a string scalar, checkpoint has ", shape_str(s.shape()),
               " ", dtype_name(s.dtype()));
    pending_states_.push_back(PendingState{w.object, a.checkpoint_key(), w.path, s.str(0)});
  }

  const std::vector<TrackableChild> live = w.object->trackable_children();
  const bool new_layout = is_new_optimizer_layout(node, live);
  for (const auto& edge : proto.children()) {
    const int child = edge.node_id();
    const std::string& name = edge.local_name();
    if (!has_values_[child]) continue;
    if (new_layout && (skipped_new_layout_edge(name) || slot_list_name(name))) continue;
    const TrackableChild* c = find_child(live, name);
    if (!c && new_layout) {
      for (const auto& alias : new_layout_aliases(name)) {
        if ((c = find_child(live, alias))) break;
      }
    }
    if (!c) {
      defer(child, w.object, name, child_path(w.path, name));
      continue;
    }
    const std::string path = child_path(w.path, c->name);
    if (c->object) {
      queue.push_back(Work{child, c->object, path});
    } else {
      restore_variable(child, c->variable, path);
    }
  }

  if (new_layout) {
    for (const auto& edge : proto.children()) {
      const char* slot = slot_list_name(edge.local_name());
      if (!slot) continue;
      const auto& list = graph_.nodes(edge.node_id()).children();
      for (int i = 0; i < list.size(); ++i) {
        const int owner = resolve_slot_owner(list[i].node_id(), slot, i, list.size());
        if (owner >= 0) try_slot(SlotRef{node, owner, slot, list[i].node_id()});
      }
    }
  }
  for (const auto& s : proto.slot_variables()) {
    try_slot(SlotRef{node, s.original_variable_node_id(), s.slot_name(), s.slot_variable_node_id()});
  }
}

int Restorer::resolve_slot_owner(int slot_node, const std::string& slot_name, int list_index,
                                 int list_size) const {
  // Keras names a slot "<optimizer>/<slot>/<variable name>": match the variable by full_name.
  if (const auto* a = value_attribute(slot_node)) {
    const std::string marker = "/" + slot_name + "/";
    const size_t pos = a->full_name().find(marker);
    if (pos != std::string::npos) {
      const auto it = owner_by_name_.find(a->full_name().substr(pos + marker.size()));
      if (it != owner_by_name_.end() && it->second >= 0) return it->second;
    }
  }
  // Otherwise the slot lists follow the model's variables in order.
  if (static_cast<int>(owner_candidates_.size()) == list_size) return owner_candidates_[list_index];
  return -1;
}

size_t Restorer::pending_count() const {
  size_t n = 0;
  for (int node : deferred_) n += !matched_[node];
  return n;
}

void Restorer::defer(int node, const std::shared_ptr<Trackable>& parent, const std::string& name,
                     const std::string& path) {
  deferred_.push_back(node);
  auto self = shared_from_this();
  if (value_attribute(node) != nullptr && graph_.nodes(node).children_size() == 0) {
    parent->defer_variable_restore(name, [self, node, path](const Variable& v) {
      self->batch([&] { self->restore_variable(node, v, path); });
    });
  } else {
    parent->defer_object_restore(name, [self, node, path](const std::shared_ptr<Trackable>& obj) {
      self->batch([&] { self->match_objects({Work{node, obj, path}}); });
    });
  }
}

void Restorer::restore_variable(int node, const Variable& v, const std::string& path) {
  if (matched_[node]) return;
  if (live_matched_.count(v.id())) return;
  matched_[node] = 1;
  node_variable_[node] = v;
  live_paths_[node] = path;
  live_matched_.insert(v.id());
  const auto* a = value_attribute(node);
  if (a != nullptr) {
    const std::string& key = a->checkpoint_key();
    const BundleEntry& e = reader_->entry(key);
    KEEL_CHECK(e.dtype.has_value(), "restore: '", path, "' (key ", key, "): checkpoint dtype ",
               tf_dtype_name(e.tf_dtype), " cannot be held by keel");
    KEEL_CHECK(!e.sliced, "restore: '", path, "' (key ", key, "): partitioned variables are not supported");
    KEEL_CHECK(e.shape == v.shape() && *e.dtype == v.dtype(), "restore: '", path, "' (key ", key,
               "): variable has ", shape_str(v.shape()), " ", dtype_name(v.dtype()), ", checkpoint has ",
               shape_str(e.shape), " ", dtype_name(*e.dtype));
    pending_reads_.push_back(PendingRead{key, path, v});
  }
  auto it = pending_slots_.find(node);
  if (it != pending_slots_.end()) {
    std::vector<SlotRef> refs = std::move(it->second);
    pending_slots_.erase(it);
    for (const auto& r : refs) try_slot(r);
  }
}

void Restorer::try_slot(const SlotRef& ref) {
  if (!has_values_[ref.slot_node]) return;
  const Variable& original = node_variable_[ref.original_node];
  if (!original.defined()) {
    pending_slots_[ref.original_node].push_back(ref);  // waits until the variable is restored
    return;
  }
  const auto optimizer = node_object_[ref.optimizer_node].lock();
  if (!optimizer) return;
  Variable slot;
  for (const auto& s : optimizer->slot_variables()) {
    if (s.slot_name == ref.slot_name && s.original.is(original)) slot = s.slot;
  }
  if (!slot.defined()) slot = optimizer->create_slot_for_restore(original, ref.slot_name);
  if (!slot.defined()) return;  // the optimizer has no such slot: the value stays unused
  restore_variable(ref.slot_node, slot,
                   slot_path(live_paths_[ref.original_node], live_paths_[ref.optimizer_node], ref.slot_name));
}

std::vector<std::string> Restorer::unused_checkpoint_keys() const {
  std::set<std::string> out;
  for (const auto& node : graph_.nodes()) {
    for (const auto& a : node.attributes()) {
      if (!a.optional_restore() && !restored_keys_.count(a.checkpoint_key())) out.insert(a.checkpoint_key());
    }
  }
  return {out.begin(), out.end()};
}

size_t Restorer::nontrivial_matches() const {
  int counter = -1;
  for (const auto& c : graph_.nodes(0).children()) {
    if (c.local_name() == "save_counter") counter = c.node_id();
  }
  size_t n = 0;
  for (int id = 1; id < graph_.nodes_size(); ++id) n += matched_[id] && id != counter;
  return n;
}

std::vector<std::string> Restorer::unmatched_checkpoint_objects() const {
  std::vector<std::string> out;
  for (int id = 0; id < graph_.nodes_size(); ++id) {
    if (matched_[id]) continue;
    bool holds = false;
    for (const auto& a : graph_.nodes(id).attributes()) holds = holds || !a.optional_restore();
    if (holds) out.push_back(paths_[id].empty() ? "#" + std::to_string(id) : paths_[id]);
  }
  return out;
}

std::vector<std::string> Restorer::unrestored_matched_keys() const {
  std::vector<std::string> out;
  for (int id = 0; id < graph_.nodes_size(); ++id) {
    if (!matched_[id]) continue;
    for (const auto& a : graph_.nodes(id).attributes()) {
      if (!a.optional_restore() && !restored_keys_.count(a.checkpoint_key())) out.push_back(a.checkpoint_key());
    }
  }
  return out;
}

std::vector<std::string> Restorer::unmatched_live_objects(const std::shared_ptr<Trackable>& root) const {
  std::vector<std::string> out;
  for (const auto& n : walk_live_graph(root)) {
    const bool holds = n.variable.defined() || (n.object && n.object->has_state() && n.object->state_required());
    if (holds && !live_matched_.count(n.identity())) out.push_back(n.path);
  }
  return out;
}

}  // namespace keel::detail
