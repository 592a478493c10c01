// Keras HDF5 layouts: reading both file kinds, writing them exactly as tf.keras 2.15 does.
#include "keel/keras/saving/h5/keras_h5.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <numeric>
#include <set>

#include "keel/graph/error.h"
#include "keel/keras/saving/h5/atomic_write.h"
#include "keel/keras/saving/h5/hdf5.h"
#include "keel/keras/saving/h5/isolated_read.h"

namespace keel {
namespace {

constexpr const char* kTopLevel = "top_level_model_weights";
constexpr const char* kKeelState = "keel_state";

std::string object(const h5::Group& g, const std::string& rel) {
  return g.path() == "/" ? "/" + rel : g.path() + "/" + rel;
}

NamedTensors read_subset(const h5::Group& g) {
  NamedTensors out;
  const std::vector<std::string> names = g.read_split_string_list_attr("weight_names");
  std::set<std::string> seen;
  for (const std::string& name : names) {
    KEEL_CHECK(seen.insert(name).second, "keras h5: ", g.file(), ": ", g.path(), ": weight '", name,
               "' appears twice in weight_names");
    KEEL_CHECK(!name.empty() && g.is_dataset(name), "keras h5: ", g.file(), ": ", object(g, name),
               ": weight '", name, "' listed in weight_names has no dataset");
    out.emplace_back(name, g.read_dataset(name));
  }
  return out;
}

std::optional<std::string> optional_attr(const h5::Group& g, const std::string& name) {
  if (!g.has_attr(name)) return std::nullopt;
  return g.read_string_attr(name);
}

KerasH5File read_in_process(const std::string& path) {
  h5::File f = h5::File::open(path);
  KerasH5File out;
  {
    const h5::Group root = f.root();
    const bool full = root.is_group("model_weights");
    KEEL_CHECK(full || root.has_split_attr("layer_names"), "keras h5: ", path,
               ": not a Keras HDF5 file: no /model_weights group and no layer_names attribute");
    out.layout = full ? KerasH5Layout::full_model : KerasH5Layout::weights_only;
    const h5::Group wg = full ? root.open_group("model_weights") : root;
    KEEL_CHECK(wg.has_split_attr("layer_names"), "keras h5: ", path, ": ", wg.path(),
               ": no layer_names attribute");
    auto version = optional_attr(root, "keras_version");
    if (!version) version = optional_attr(wg, "keras_version");
    auto backend = optional_attr(root, "backend");
    if (!backend) backend = optional_attr(wg, "backend");
    out.keras_version = version.value_or("");
    out.backend = backend.value_or("");
    out.model_config = optional_attr(root, "model_config");
    out.training_config = optional_attr(root, "training_config");

    std::set<std::string> seen;
    for (const std::string& name : wg.read_split_string_list_attr("layer_names")) {
      KEEL_CHECK(seen.insert(name).second, "keras h5: ", path, ": ", wg.path(), ": layer '", name,
                 "' appears twice in layer_names");
      KEEL_CHECK(!name.empty() && wg.is_group(name), "keras h5: ", path, ": ", object(wg, name), ": layer '",
                 name, "' listed in layer_names has no group");
      out.layers.push_back(H5LayerWeights{name, read_subset(wg.open_group(name))});
    }
    out.top_level_weights = std::nullopt;
    if (wg.is_group(kTopLevel)) out.top_level_weights = read_subset(wg.open_group(kTopLevel));
    if (full && root.is_group("optimizer_weights")) {
      out.optimizer_weights = read_subset(root.open_group("optimizer_weights"));
    }
    if (full && root.is_group(kKeelState)) out.keel_state = read_subset(root.open_group(kKeelState));
  }
  f.close();
  return out;
}

}  // namespace

KerasH5File read_keras_h5(const std::string& path) {
  // Keras >= 2.13 writes `.keras` files as zip archives (config.json, model.weights.h5); Keras 2.4-2.12,
  // whose layout keel writes, made them HDF5. Say which one this is rather than quote HDF5's complaint.
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, sizeof magic);
  KEEL_CHECK(std::memcmp(magic, "PK\x03\x04", 4) != 0, "keras h5: ", path,
             " is a zip archive (the .keras format of Keras >= 2.13), not HDF5; keel reads Keras HDF5 files "
             "and SavedModel-style directories: re-save it from Keras with model.save('model.h5')");
  // HDF5 itself can crash or hang on damaged metadata: the whole read runs in a child first.
  h5::check_in_child("keras h5: " + path, path, [&] { read_in_process(path); });
  return read_in_process(path);
}

// ---------------------------------------------------------------- writing

namespace {

bool valid_link_name(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != ".." &&
         s.find('\0') == std::string::npos;
}

bool valid_weight_path(const std::string& s) {
  if (s.empty() || s.front() == '/' || s.back() == '/' || s.find("//") != std::string::npos) return false;
  for (size_t start = 0; start <= s.size();) {
    const size_t end = std::min(s.find('/', start), s.size());
    if (!valid_link_name(s.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

void check_subset(const std::string& path, const std::string& owner, const NamedTensors& weights) {
  std::set<std::string> seen;
  for (const auto& [name, value] : weights) {
    KEEL_CHECK(valid_weight_path(name), "keras h5: ", path, ": ", owner, ": invalid weight name '", name, "'");
    KEEL_CHECK(seen.insert(name).second, "keras h5: ", path, ": ", owner, ": duplicate weight name '", name,
               "'");
    KEEL_CHECK(value.defined() && value.dtype() != DType::string, "keras h5: ", path, ": ", owner,
               ": weight '", name, "' is ", value.defined() ? "a string tensor" : "undefined");
  }
}

void check_weights(const std::string& path, const KerasH5File& file) {
  KEEL_CHECK(!file.keras_version.empty() && !file.backend.empty(), "keras h5: ", path,
             ": keras_version and backend must be set");
  std::set<std::string> seen;
  for (const H5LayerWeights& l : file.layers) {
    KEEL_CHECK(valid_link_name(l.layer_name), "keras h5: ", path, ": invalid layer name '", l.layer_name, "'");
    KEEL_CHECK(seen.insert(l.layer_name).second, "keras h5: ", path, ": duplicate layer name '", l.layer_name,
               "'");
    KEEL_CHECK(!(file.top_level_weights && l.layer_name == kTopLevel), "keras h5: ", path, ": layer name '",
               kTopLevel, "' collides with the model's own weights group");
    check_subset(path, "layer '" + l.layer_name + "'", l.weights);
  }
  if (file.top_level_weights) check_subset(path, kTopLevel, *file.top_level_weights);
}

void check_json_object(const std::string& path, const char* what, const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  KEEL_CHECK(j.is_object(), "keras h5: ", path, ": ", what, " is not a JSON object");
}

void write_subset(const h5::Group& g, const NamedTensors& weights) {
  std::vector<std::string> names;
  for (const auto& w : weights) names.push_back(w.first);
  g.write_split_string_list_attr("weight_names", names);  // [] becomes an empty float64 array
  for (const auto& [name, value] : weights) g.write_dataset(name, value);
}

// save_weights_to_hdf5_group: layer_names in model order, then backend and keras_version as bytes, then
// one group per layer created in sorted name order, then top_level_model_weights.
void write_weights_group(const h5::Group& g, const KerasH5File& file) {
  std::vector<std::string> names;
  for (const H5LayerWeights& l : file.layers) names.push_back(l.layer_name);
  g.write_split_string_list_attr("layer_names", names);
  g.write_string_attr("backend", file.backend, h5::StringType::vlen_ascii);
  g.write_string_attr("keras_version", file.keras_version, h5::StringType::vlen_ascii);
  std::vector<size_t> order(file.layers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return file.layers[a].layer_name < file.layers[b].layer_name; });
  for (size_t i : order) write_subset(g.create_group(file.layers[i].layer_name), file.layers[i].weights);
  if (file.top_level_weights) write_subset(g.create_group(kTopLevel), *file.top_level_weights);
}

template <class Fill>
void write_file(const std::string& path, Fill fill) {
  h5::atomic_write(path, [&](const std::string& tmp) {
    h5::File f = h5::File::create(tmp);
    fill(f.root());
    f.flush();
    f.close();
  });
}

}  // namespace

void write_keras_h5_weights(const std::string& path, const KerasH5File& file) {
  check_weights(path, file);
  write_file(path, [&](const h5::Group& root) { write_weights_group(root, file); });
}

void write_keras_h5_model(const std::string& path, const KerasH5File& file) {
  check_weights(path, file);
  KEEL_CHECK(file.model_config.has_value(), "keras h5: ", path, ": a full model file needs model_config");
  check_json_object(path, "model_config", *file.model_config);
  if (file.training_config) check_json_object(path, "training_config", *file.training_config);
  check_subset(path, "optimizer_weights", file.optimizer_weights);
  check_subset(path, kKeelState, file.keel_state);
  write_file(path, [&](const h5::Group& root) {
    // save_model_to_hdf5: metadata strings (str -> UTF-8, json.dumps(...).encode() -> ASCII bytes).
    root.write_string_attr("keras_version", file.keras_version, h5::StringType::vlen_utf8);
    root.write_string_attr("backend", file.backend, h5::StringType::vlen_utf8);
    root.write_string_attr("model_config", *file.model_config, h5::StringType::vlen_ascii);
    if (file.training_config) {
      root.write_string_attr("training_config", *file.training_config, h5::StringType::vlen_ascii);
    }
    write_weights_group(root.create_group("model_weights"), file);
    if (!file.optimizer_weights.empty()) write_subset(root.create_group("optimizer_weights"), file.optimizer_weights);
    if (!file.keel_state.empty()) write_subset(root.create_group(kKeelState), file.keel_state);
  });
}

// ---------------------------------------------------------------- names

std::string strip_weight_suffix(const std::string& stored) {
  const size_t colon = stored.rfind(':');
  if (colon == std::string::npos || colon + 1 == stored.size()) return stored;
  if (stored.find('/', colon) != std::string::npos) return stored;
  for (size_t i = colon + 1; i < stored.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(stored[i]))) return stored;
  }
  return stored.substr(0, colon);
}

std::string weight_short_name(const std::string& stored) {
  const std::string bare = strip_weight_suffix(stored);
  const size_t slash = bare.rfind('/');
  return slash == std::string::npos ? bare : bare.substr(slash + 1);
}

}  // namespace keel
