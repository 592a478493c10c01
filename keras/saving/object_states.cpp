// Non-tensor object states of a model as named u8 tensors.
#include "keel/keras/saving/object_states.h"

#include <cstring>
#include <map>

#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"
#include "keel/graph/error.h"
#include "keel/keras/saving/weights.h"

namespace keel::keras {

NamedTensors model_object_states(const Model& model) {
  NamedTensors out;
  for (const LiveNode& n : walk_live_graph(model_as_trackable(model))) {
    if (!n.object || !n.object->has_state() || n.path.empty()) continue;
    const std::string bytes = n.object->save_state();
    Tensor t = Tensor::zeros({static_cast<int64_t>(bytes.size())}, DType::u8);
    if (!bytes.empty()) std::memcpy(t.raw_data(), bytes.data(), bytes.size());
    out.emplace_back(escape_local_name(n.path), std::move(t));
  }
  return out;
}

size_t restore_model_object_states(Model& model, const NamedTensors& states, const std::string& file) {
  if (states.empty()) return 0;
  std::map<std::string, std::shared_ptr<Trackable>> live;
  for (const LiveNode& n : walk_live_graph(model_as_trackable(model))) {
    if (n.object && n.object->has_state() && !n.path.empty()) live[escape_local_name(n.path)] = n.object;
  }
  std::vector<std::pair<std::shared_ptr<Trackable>, std::string>> plan;
  for (const auto& [name, value] : states) {
    const auto path = unescape_local_name(name);
    auto it = live.find(name);
    KEEL_CHECK(it != live.end(), "load_model: state of '", path.value_or(name), "' in ", file,
               " has no object of that path with state in model '", model.name(), "'");
    KEEL_CHECK(value.dtype() == DType::u8 && value.dim() == 1, "load_model: state of '", path.value_or(name),
               "' in ", file, " must be a u8 vector, file has ", shape_str(value.shape()), " ",
               dtype_name(value.dtype()));
    plan.emplace_back(it->second, std::string(static_cast<const char*>(value.raw_data()),
                                              static_cast<size_t>(value.numel())));
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    try {
      plan[i].first->restore_state(plan[i].second);
    } catch (const std::exception& e) {
      throw Error("load_model: state of '" + unescape_local_name(states[i].first).value_or(states[i].first) +
                  "' in " + file + ": " + e.what());
    }
  }
  return plan.size();
}

}  // namespace keel::keras
