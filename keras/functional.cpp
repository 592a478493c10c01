// model_from_config / model_from_json: rebuilding Sequential and functional models from Keras configs.
#include <map>

#include "keel/graph/error.h"
#include "keel/keras/json_depth.h"
#include "keel/keras/layers/registry.h"
#include "keel/keras/model.h"
#include "keel/keras/sequential.h"

namespace keel::keras {

namespace {

std::shared_ptr<Model> sequential_from_config(const Json& config) {
  // Keras 2.x: {"name", "layers": [...]}; Keras 2.0-2.1 wrote the list of layers alone.
  const Json& entries = config.is_array() ? config : config.at("layers");
  const std::string name = config.is_object() && config.contains("name") ? config["name"].get<std::string>() : "";
  auto model = std::make_shared<Sequential>(std::vector<LayerArg>{}, name);
  for (const Json& e : entries) model->add(LayerArg(layer_from_config(e)));
  return model;
}

struct TensorRef {
  std::string layer;
  int64_t node = 0, tensor = 0;
};

TensorRef ref_of(const Json& j) {
  KEEL_CHECK(j.is_array() && j.size() >= 3 && j[0].is_string(), "model config: invalid tensor reference ", j.dump());
  const bool indices = j[1].is_number_integer() && j[2].is_number_integer() && j[1].get<int64_t>() >= 0 &&
                       j[2].get<int64_t>() >= 0;
  KEEL_CHECK(indices, "model config: tensor reference ", j.dump(), " to layer '", j[0].get<std::string>(),
             "': node and tensor indices must be non-negative integers");
  return {j[0].get<std::string>(), j[1].get<int64_t>(), j[2].get<int64_t>()};
}

std::vector<TensorRef> refs_of(const Json& j) {
  std::vector<TensorRef> out;
  if (j.is_array() && !j.empty() && j[0].is_string()) return {ref_of(j)};
  for (const Json& r : j) out.push_back(ref_of(r));
  return out;
}

std::shared_ptr<Model> functional_from_config(const Json& config) {
  const Json& entries = config.at("layers");
  std::map<std::string, std::shared_ptr<Layer>> created;
  std::map<std::string, std::vector<std::vector<KerasTensor>>> outputs;  // per model node
  struct Pending {
    std::shared_ptr<Layer> layer;
    std::vector<Json> nodes;
    size_t next = 0;
  };
  std::vector<Pending> pending;
  for (const Json& e : entries) {
    auto layer = layer_from_config(e);
    const std::string name = e.contains("name") ? e["name"].get<std::string>() : layer->name();
    KEEL_CHECK(!created.count(name), "model config: the layer name '", name, "' is used 2 times in the model");
    created[name] = layer;
    if (auto input = std::dynamic_pointer_cast<layers::InputLayer>(layer)) {
      outputs[name].push_back({input->output()});
      continue;
    }
    Pending p{layer, {}, 0};
    if (e.contains("inbound_nodes")) for (const Json& n : e["inbound_nodes"]) p.nodes.push_back(n);
    pending.push_back(std::move(p));
  }
  auto lookup = [&](const TensorRef& r, KerasTensor* out) {
    auto it = outputs.find(r.layer);
    if (it == outputs.end() || r.node >= static_cast<int64_t>(it->second.size())) return false;
    const auto& ts = it->second[r.node];
    KEEL_CHECK(r.tensor < static_cast<int64_t>(ts.size()), "model config: layer '", r.layer, "' has no output ",
               r.tensor);
    *out = ts[r.tensor];
    return true;
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (Pending& p : pending) {
      while (p.next < p.nodes.size()) {
        const Json& node = p.nodes[p.next];
        KEEL_CHECK(node.is_array(), "model config: layer '", p.layer->name(),
                   "': unsupported inbound_nodes format ", node.dump());
        std::vector<KerasTensor> ins;
        bool ready = true;
        for (const TensorRef& r : refs_of(node)) {
          KerasTensor t;
          if (!lookup(r, &t)) { ready = false; break; }
          ins.push_back(t);
        }
        if (!ready) break;
        std::vector<KerasTensor> outs;
        if (ins.size() == 1) {
          outs = (*p.layer)(ins);
        } else {
          outs = (*p.layer)(ins);
        }
        outputs[p.layer->name()].push_back(outs);
        ++p.next;
        progress = true;
      }
    }
  }
  for (const Pending& p : pending) {
    KEEL_CHECK(p.next == p.nodes.size(), "model config: the inputs of layer '", p.layer->name(),
               "' cannot be resolved");
  }
  auto resolve = [&](const Json& j) {
    std::vector<KerasTensor> out;
    for (const TensorRef& r : refs_of(j)) {
      KerasTensor t;
      KEEL_CHECK(lookup(r, &t), "model config: unknown tensor ", r.layer, "[", r.node, "][", r.tensor, "]");
      out.push_back(t);
    }
    return out;
  };
  const std::string name = config.contains("name") ? config["name"].get<std::string>() : "";
  return std::make_shared<Model>(resolve(config.at("input_layers")), resolve(config.at("output_layers")), name);
}

}  // namespace

namespace {
std::shared_ptr<Model> model_from_checked_config(const Json& j) {
  KEEL_CHECK(j.is_object() && j.contains("class_name") && j.contains("config"),
             "model config must be {\"class_name\": ..., \"config\": ...}");
  const std::string cls = j["class_name"].get<std::string>();
  if (cls == "Sequential") return sequential_from_config(j["config"]);
  if (cls == "Functional" || cls == "Model") return functional_from_config(j["config"]);
  auto layer = layer_from_config(j);
  auto model = std::dynamic_pointer_cast<Model>(layer);
  KEEL_CHECK(model != nullptr, "model config: class '", cls, "' is a layer, not a model");
  return model;
}
}  // namespace

std::shared_ptr<Model> model_from_config(const Json& j) {
  try {
    return model_from_checked_config(j);
  } catch (const nlohmann::json::exception& e) {  // a field missing or of the wrong type outside the layers
    KEEL_FAIL("model config: ", e.what());
  }
}

std::shared_ptr<Model> model_from_json(const std::string& text) {
  check_json_depth(text, "model_from_json");
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    KEEL_FAIL("model_from_json: invalid JSON: ", e.what());
  }
  return model_from_config(j);
}

}  // namespace keel::keras
