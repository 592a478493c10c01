// Keras's /optimizer_weights to and from a compiled model's optimizer.
#include "keel/keras/saving/optimizer_weights.h"

#include <algorithm>
#include <map>

#include "keel/graph/error.h"
#include "keel/graph/node.h"
#include "keel/keras/saving/h5/optimizer_names.h"

namespace keel::keras {
namespace {

using Kind = OptimizerWeightName::Kind;

std::string type_str(const Shape& s, DType d) { return shape_str(s) + " " + dtype_name(d); }

// keel's slot name for a stored one: the legacy names are keel's; Keras >= 2.11 renamed some.
std::string keel_slot_name(const Optimizer& opt, OptimizerNaming scheme, const std::string& stored) {
  if (scheme == OptimizerNaming::legacy) return stored;
  const std::string cls = opt.class_name();
  if (cls == "SGD" && stored == "m") return "momentum";
  if (cls == "RMSprop" && stored == "velocity") return "rms";
  if (cls == "RMSprop" && stored == "average_gradient") return "mg";
  return stored;
}

Optimizer& compiled_optimizer(const Model& model, const char* what) {
  KEEL_CHECK(model.optimizer() != nullptr, what, ": model '", model.name(), "' is not compiled");
  return *model.optimizer();
}

// The optimizer state a file holds must be whole: the iteration count whenever there are slots, and
// every slot of the optimizer for each variable that has any (keel writes a variable's slots together and
// skips only variables that never had any, Keras writes all). A file with a slot dropped would otherwise
// resume with that slot fresh beside the restored others, and with no iterations Adam's bias correction
// would start over on restored moments.
void check_complete(const Optimizer& opt, const std::map<std::string, std::vector<std::string>>& slots_by_variable,
                    const std::string& file) {
  const auto all = opt.slot_names();
  for (const auto& [variable, slots] : slots_by_variable) {
    if (variable.empty()) continue;  // the iteration count
    KEEL_CHECK(slots_by_variable.count(""), "load_model: optimizer_weights of ", file, " hold slots (of '", variable,
               "', ...) but no iteration count for ", opt.class_name(), " '", opt.name(), "'");
    for (const std::string& want : all) {
      if (std::find(slots.begin(), slots.end(), want) != slots.end()) continue;
      std::string have;
      for (const auto& x : slots) have += (have.empty() ? "'" : ", '") + x + "'";
      KEEL_FAIL("load_model: optimizer_weights of ", file, " hold slot ", have, " of '", variable, "' but not '",
                want, "': ", opt.class_name(), " '", opt.name(), "' keeps every one of its slots for a variable it "
                "updates, and restoring part of them would resume from a mixed state");
    }
  }
}

}  // namespace

NamedTensors optimizer_h5_weights(const Model& model) {
  const Optimizer& opt = compiled_optimizer(model, "optimizer_h5_weights");
  std::vector<Variable> vars;
  std::vector<std::string> names;
  for (const Variable& v : model.trainable_weights()) {
    bool has_slots = false;
    for (const std::string& s : opt.slot_names()) has_slots = has_slots || opt.get_slot(v, s).defined();
    if (!has_slots) continue;
    vars.push_back(v);
    names.push_back(v.name());
  }
  std::map<std::string, Variable> by_name;
  for (const Variable& v : vars) by_name[v.name()] = v;
  NamedTensors out;
  for (const OptimizerWeightName& n :
       keras_optimizer_weight_order(OptimizerNaming::legacy, opt.name(), names, opt.slot_names())) {
    if (n.kind == Kind::iterations) {
      out.emplace_back(n.stored, opt.iterations().value().detach().clone());
      continue;
    }
    const Variable slot = opt.get_slot(by_name.at(n.variable), n.slot);
    if (slot.defined()) out.emplace_back(n.stored, slot.value().detach().clone());
  }
  return out;
}

size_t load_optimizer_h5_weights(Model& model, const NamedTensors& stored, const std::string& file) {
  Optimizer& opt = compiled_optimizer(model, "load_model");
  if (stored.empty()) return 0;
  std::map<std::string, Variable> by_name;
  std::vector<std::string> paths;
  for (const Variable& v : model.trainable_weights()) {
    by_name[v.name()] = v;
    paths.push_back(v.name());
  }
  std::vector<std::string> names;
  for (const auto& w : stored) names.push_back(w.first);
  ParsedOptimizerNames parsed;
  try {
    parsed = parse_optimizer_weight_names(names, paths);
  } catch (const Error& e) {
    throw Error("load_model: optimizer_weights of " + file + ": " + e.what());
  }
  const std::vector<std::string> slot_names = opt.slot_names();
  struct Assignment {
    Variable target;         // iterations, or an existing slot
    Variable original;       // for a slot that must be created
    std::string slot;
    const Tensor* value;
  };
  std::vector<Assignment> plan;
  std::map<std::string, std::vector<std::string>> slots_by_variable;  // "" for the iteration count
  for (size_t i = 0; i < stored.size(); ++i) {
    const OptimizerWeightName& n = parsed.names[i];
    const Tensor& value = stored[i].second;
    if (n.kind == Kind::iterations) {
      const Variable& it = opt.iterations();
      KEEL_CHECK(value.shape().empty() && (value.dtype() == DType::i64 || value.dtype() == DType::i32),
                 "load_model: optimizer weight '", stored[i].first, "' (iterations): optimizer has ",
                 type_str(it.shape(), it.dtype()), ", file has ", type_str(value.shape(), value.dtype()),
                 " (file ", file, ")");
      plan.push_back({it, Variable(), "", &value});
      slots_by_variable[""];
      continue;
    }
    KEEL_CHECK(n.kind == Kind::slot, "load_model: optimizer weight '", stored[i].first,
               "' is neither the iteration count nor a slot (file ", file, ")");
    auto v = by_name.find(n.variable);
    KEEL_CHECK(v != by_name.end(), "load_model: optimizer weight '", stored[i].first, "' belongs to variable '",
               n.variable, "', which is not a trainable weight of model '", model.name(), "' (file ", file, ")");
    const std::string slot = keel_slot_name(opt, parsed.scheme, n.slot);
    KEEL_CHECK(std::find(slot_names.begin(), slot_names.end(), slot) != slot_names.end(), "load_model: optimizer weight '",
               stored[i].first, "': ", opt.class_name(), " '", opt.name(), "' has no slot '", slot,
               "' (its slots: ", [&] {
                 std::string s;
                 for (const auto& x : slot_names) s += (s.empty() ? "" : ", ") + x;
                 return s.empty() ? std::string("none") : s;
               }(), ") (file ", file, ")");
    const Variable& var = v->second;
    KEEL_CHECK(value.shape() == var.shape() && value.dtype() == var.dtype(), "load_model: optimizer weight '",
               stored[i].first, "' (slot '", slot, "' of '", var.name(), "'): model has ",
               type_str(var.shape(), var.dtype()), ", file has ", type_str(value.shape(), value.dtype()), " (file ",
               file, ")");
    plan.push_back({opt.get_slot(var, slot), var, slot, &value});
    slots_by_variable[var.name()].push_back(slot);
  }
  check_complete(opt, slots_by_variable, file);
  for (Assignment& a : plan) {
    NoGradGuard no_grad;
    if (!a.target.defined()) a.target = opt.create_slot_for_restore(a.original, a.slot);
    KEEL_CHECK(a.target.defined(), "load_model: ", opt.class_name(), " did not create slot '", a.slot, "' of '",
               a.original.name(), "' (file ", file, ")");
    a.target.assign(a.value->to(a.target.dtype()));
  }
  return plan.size();
}

}  // namespace keel::keras
