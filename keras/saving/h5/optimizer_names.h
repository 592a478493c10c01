// Keras optimizer weight names in HDF5 files (/optimizer_weights weight_names), both schemes.
//
//   legacy (tf.keras <= 2.10, OptimizerV2):   "Adam/iter:0", "Adam/dense/kernel/m:0", "Adam/dense/kernel/v:0"
//   v2     (tf.keras >= 2.11):                "iteration:0", "Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0"
//
//   ParsedOptimizerNames p = parse_optimizer_weight_names(stored_names);
//   p.scheme == OptimizerNaming::legacy;  p.optimizer == "Adam";
//   p.names[1] == {Kind::slot, "Adam", "dense/kernel", "m"}
//   format_optimizer_weight_name(OptimizerNaming::v2, p.names[1]) == "Adam/m/dense/kernel:0"
//
// The variable path is the model weight's stored name without ":0" (strip_weight_suffix), so a loader
// maps (variable, slot) onto keel's optimizer slots. The scheme is told by the iterations counter
// ("iteration:0" vs "<opt>/iter:0"); without one, by the model's variable paths when given, else by
// which position holds well-known slot names. Slot names are kept as Keras stores them (legacy SGD
// "momentum", RMSprop "rms"/"mg"; v2 SGD "m", RMSprop "velocity"/"average_gradient").
#pragma once

#include <string>
#include <vector>

namespace keel {

enum class OptimizerNaming { legacy, v2 };

struct OptimizerWeightName {
  enum class Kind { iterations, slot, other };
  Kind kind = Kind::other;
  std::string optimizer;  // "Adam"; empty for v2's "iteration:0"
  std::string variable;   // slots: the model variable's path, "dense/kernel"
  std::string slot;       // slots: "m", "v", "vhat", "momentum", ...
  std::string stored;     // the name as stored (for Kind::other, the only field set besides optimizer)
  bool operator==(const OptimizerWeightName& o) const {
    return kind == o.kind && optimizer == o.optimizer && variable == o.variable && slot == o.slot;
  }
};

struct ParsedOptimizerNames {
  OptimizerNaming scheme = OptimizerNaming::v2;
  std::string optimizer;  // the optimizer name scope shared by the slots ("Adam"), empty if none
  std::vector<OptimizerWeightName> names;  // one per stored name, same order
};

// `variable_paths` (the model's weight paths without ":0"), when given, settle ambiguous names: a slot
// whose variable is not among them is an error naming it. Throws keel::Error when the scheme cannot be
// told or a name does not fit it.
ParsedOptimizerNames parse_optimizer_weight_names(const std::vector<std::string>& stored,
                                                  const std::vector<std::string>& variable_paths = {});

// The stored name of one weight in `scheme` (Kind::other cannot be formatted).
std::string format_optimizer_weight_name(OptimizerNaming scheme, const OptimizerWeightName& name);

// The names Keras writes for `optimizer` over `variables` with `slots`, in Keras's order:
// legacy: iter, then every variable's first slot, then every variable's second slot, ...;
// v2: iteration, then for each variable all its slots.
std::vector<OptimizerWeightName> keras_optimizer_weight_order(OptimizerNaming scheme, const std::string& optimizer,
                                                              const std::vector<std::string>& variables,
                                                              const std::vector<std::string>& slots);

}  // namespace keel
