// save_weights / load_weights: Keras HDF5 weights files and object-based checkpoints of a model.
#include "keel/keras/saving/weights.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"
#include "keel/checkpoint/restore.h"
#include "keel/checkpoint/variables_match.h"
#include "keel/graph/error.h"
#include "keel/graph/node.h"

namespace keel::keras {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string type_str(const Shape& s, DType d) { return shape_str(s) + " " + dtype_name(d); }

std::string short_name(const std::string& variable_name) {
  const auto slash = variable_name.rfind('/');
  return slash == std::string::npos ? variable_name : variable_name.substr(slash + 1);
}

// "layer 'dense' weight 'kernel'" from the variable name "dense/kernel".
std::string weight_label(const std::string& variable_name) {
  const auto slash = variable_name.rfind('/');
  if (slash == std::string::npos) return "weight '" + variable_name + "'";
  return "layer '" + variable_name.substr(0, slash) + "' weight '" + variable_name.substr(slash + 1) + "'";
}

std::string list_str(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

struct Pair {
  std::shared_ptr<Layer> layer;
  const H5LayerWeights* stored;
};

// Checks one layer against its stored weights; returns the problem, or "" when they fit.
std::string mismatch(const Layer& layer, const H5LayerWeights& stored, const std::string& file) {
  const auto vars = layer.legacy_weights();  // Keras's HDF5 order: trainable, then non-trainable
  std::ostringstream os;
  if (!layer.built() && !stored.weights.empty()) {
    std::vector<std::string> theirs;
    for (const auto& w : stored.weights) theirs.push_back(w.first);
    os << "load_weights: layer '" << layer.name() << "' is not built, so it has no weights yet for file layer '"
       << stored.layer_name << "' " << list_str(theirs)
       << " (build the model or call it once before loading weights) (file " << file << ")";
    return os.str();
  }
  if (vars.size() != stored.weights.size()) {
    std::vector<std::string> mine, theirs;
    for (const auto& v : vars) mine.push_back(short_name(v.name()));
    for (const auto& w : stored.weights) theirs.push_back(w.first);
    os << "load_weights: layer '" << layer.name() << "' has " << vars.size() << " weights " << list_str(mine)
       << ", file layer '" << stored.layer_name << "' has " << stored.weights.size() << " " << list_str(theirs)
       << " (file " << file << ")";
    return os.str();
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    const Tensor& v = stored.weights[i].second;
    if (vars[i].shape() != v.shape() || vars[i].dtype() != v.dtype()) {
      os << "load_weights: layer '" << layer.name() << "' weight '" << short_name(vars[i].name())
         << "': model has " << type_str(vars[i].shape(), vars[i].dtype()) << ", file has "
         << type_str(v.shape(), v.dtype()) << " (file " << file << ")";
      return os.str();
    }
  }
  return {};
}

}  // namespace

std::shared_ptr<Trackable> model_as_trackable(const Model& model) {
  return shared_or_alias(const_cast<Model&>(model));
}

bool is_h5_path(const std::string& path) {
  return ends_with(path, ".h5") || ends_with(path, ".hdf5") || ends_with(path, ".keras");
}

std::vector<H5LayerWeights> model_h5_layers(const Model& model) {
  std::vector<H5LayerWeights> out;
  for (const auto& l : model.layers()) {
    H5LayerWeights lw;
    lw.layer_name = l->name();
    for (const auto& v : l->legacy_weights()) lw.weights.emplace_back(v.name() + ":0", v.value().detach());
    out.push_back(std::move(lw));
  }
  return out;
}

LoadWeightsResult load_h5_layers(Model& model, const std::vector<H5LayerWeights>& layers, const std::string& file,
                                 const LoadWeightsOptions& options) {
  LoadWeightsResult result;
  result.path = file;
  result.h5 = true;
  std::vector<Pair> pairs;
  if (!options.by_name) {
    // Keras's order-based rule: layers with weights, in model order, on both sides.
    std::vector<std::shared_ptr<Layer>> live;
    for (const auto& l : model.layers()) {
      if (!l->weights().empty()) live.push_back(l);
    }
    std::vector<const H5LayerWeights*> stored;
    for (const auto& s : layers) {
      if (!s.weights.empty()) stored.push_back(&s);
    }
    if (live.empty() && !model.layers().empty() && !stored.empty()) {
      bool any_unbuilt = false;
      for (const auto& l : model.layers()) any_unbuilt = any_unbuilt || !l->built();
      KEEL_CHECK(!any_unbuilt, "load_weights: model '", model.name(),
                 "' is not built (build it or call it once before loading weights) (file ", file, ")");
    }
    if (live.size() != stored.size()) {
      std::vector<std::string> mine, theirs;
      for (const auto& l : live) mine.push_back(l->name());
      for (const auto* s : stored) theirs.push_back(s->layer_name);
      KEEL_FAIL("load_weights: the model '", model.name(), "' has ", live.size(), " layers with weights ",
                list_str(mine), ", the file has ", stored.size(), " ", list_str(theirs), " (file ", file, ")");
    }
    for (size_t i = 0; i < live.size(); ++i) pairs.push_back({live[i], stored[i]});
  } else {
    std::map<std::string, std::shared_ptr<Layer>> by_name;
    for (const auto& l : model.layers()) by_name[l->name()] = l;
    for (const auto& s : layers) {
      auto it = by_name.find(s.layer_name);
      if (it == by_name.end()) continue;  // Keras ignores file layers the model lacks
      pairs.push_back({it->second, &s});
    }
  }
  // Validate everything first.
  std::vector<Pair> accepted;
  for (const auto& p : pairs) {
    const std::string problem = mismatch(*p.layer, *p.stored, file);
    if (problem.empty()) {
      accepted.push_back(p);
    } else if (options.by_name && options.skip_mismatch) {
      result.skipped.push_back(problem);
    } else {
      throw Error(problem);
    }
  }
  for (const auto& p : accepted) {
    const auto vars = p.layer->legacy_weights();
    for (size_t i = 0; i < vars.size(); ++i) {
      NoGradGuard no_grad;
      vars[i].assign(p.stored->weights[i].second);
      ++result.weights_loaded;
    }
  }
  return result;
}

void write_model_checkpoint(const Model& model, const std::string& prefix) {
  write_graph_bundle(model_as_trackable(model), prefix);
}

ModelCheckpointRead read_model_checkpoint(Model& model, const std::string& prefix) {
  const auto root = model_as_trackable(model);
  std::set<const void*> model_weights;
  for (const Variable& v : model.weights()) model_weights.insert(v.id());
  {
    BundleReader reader(prefix);
    const auto key_of = stored_variable_keys(reader, prefix, "load_weights");
    // Every model weight must be stored with its shape and dtype. Other values (the optimizer's, the
    // metrics', generator states) are restored when present: a checkpoint of an uncompiled model loads
    // into a compiled one, and the other way round the optimizer's values wait for compile().
    size_t variables = 0;
    for (const auto& n : walk_live_graph(root)) {
      if (!n.variable.defined() || !model_weights.count(n.variable.id())) continue;
      ++variables;
      auto it = key_of.find(n.path);
      const std::string what = weight_label(n.variable.name()) + " ('" + n.path + "')";
      KEEL_CHECK(it != key_of.end() && reader.contains(it->second), "load_weights: ", what, " is not in checkpoint ",
                 prefix);
      const BundleEntry& e = reader.entry(it->second);
      KEEL_CHECK(e.dtype.has_value() && e.shape == n.variable.shape() && *e.dtype == n.variable.dtype(),
                 "load_weights: ", what, ": model has ",
                 type_str(n.variable.shape(), n.variable.dtype()), ", file has ", shape_str(e.shape), " ",
                 e.dtype ? dtype_name(*e.dtype) : tf_dtype_name(e.tf_dtype).c_str(), " (checkpoint ", prefix, ")");
    }
    KEEL_CHECK(variables == model_weights.size(), "load_weights: model '", model.name(), "' has ",
               model_weights.size(), " weights, ", variables, " of them reachable from the model (checkpoint ",
               prefix, ")");
  }
  auto r = std::make_shared<::keel::detail::Restorer>(prefix);
  r->restore_into(root);
  CheckpointLoadStatus status(r, root);
  status.expect_partial();
  ModelCheckpointRead out;
  out.weights = model_weights.size();
  out.other_values = status.restored_count() - std::min(status.restored_count(), out.weights);
  out.deferred = model_weights.empty();  // an unbuilt model: the Restorer waits on its layers
  if (!out.deferred) {
    // Values of stored layers (edges layer-N / layer_with_weights-N) left over once the model's weights
    // are restored belong to layers this model does not have. Optimizer and metric values are not
    // counted: they may wait for compile().
    for (const std::string& key : status.unused_checkpoint_keys()) {
      if (key.rfind("layer", 0) == 0 && key.find("/.OPTIMIZER_SLOT/") == std::string::npos)
        out.unmatched.push_back(key);
    }
  }
  return out;
}

void save_weights(const Model& model, const std::string& path) {
  KEEL_CHECK(!path.empty(), "save_weights: empty path");
  if (is_h5_path(path)) {
    KerasH5File f;
    f.layout = KerasH5Layout::weights_only;
    f.layers = model_h5_layers(model);
    write_keras_h5_weights(path, f);
    return;
  }
  write_model_checkpoint(model, path);
  namespace fs = std::filesystem;
  const fs::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  CheckpointStateFile state;
  state.model_checkpoint_path = p.filename().string();
  state.all_model_checkpoint_paths = {state.model_checkpoint_path};
  write_checkpoint_state(dir, state);
}

LoadWeightsResult load_weights(Model& model, const std::string& path, const LoadWeightsOptions& options) {
  KEEL_CHECK(!path.empty(), "load_weights: empty path");
  KEEL_CHECK(!options.skip_mismatch || options.by_name, "load_weights: skip_mismatch requires by_name (file ", path,
             ")");
  if (is_h5_path(path)) {
    const KerasH5File f = read_keras_h5(path);
    return load_h5_layers(model, f.layers, path, options);
  }
  KEEL_CHECK(!options.by_name, "load_weights: by_name applies only to .h5 files (checkpoint ", path, ")");
  LoadWeightsResult result;
  result.path = path;
  const ModelCheckpointRead read = read_model_checkpoint(model, path);
  result.weights_loaded = read.weights;
  result.other_values_loaded = read.other_values;
  result.deferred = read.deferred;
  for (const std::string& key : read.unmatched)
    result.skipped.push_back("checkpoint value '" + key + "' matches nothing in model '" + model.name() + "'");
  if (!read.unmatched.empty()) {  // tf.keras logs these too ("Value in checkpoint could not be found ...")
    std::cerr << "keel: warning: load_weights: checkpoint '" << path << "': " << read.unmatched.size()
              << " value(s) of layers match nothing in model '" << model.name() << "', first '"
              << read.unmatched.front() << "'\n";
  }
  return result;
}

}  // namespace keel::keras
