#include "keel/keras/model.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <iostream>
#include <set>
#include <sstream>

#include "keel/graph/error.h"
#include "keel/keras/layers/backend.h"
#include "keel/ops/elementwise.h"

namespace keel::keras {

namespace {
LayerArgs model_args(const std::string& name) {
  LayerArgs a;
  a.name = name;
  return a;
}
}  // namespace

Model::Model(std::string class_name, const LayerArgs& args) : LayerImpl<Model>(std::move(class_name), args) {}

Model::Model(const KerasTensor& inputs, const KerasTensor& outputs, const std::string& name)
    : Model(std::vector<KerasTensor>{inputs}, std::vector<KerasTensor>{outputs}, name) {}

Model::Model(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs, const std::string& name)
    : LayerImpl<Model>("Functional", [&] {
        LayerArgs a = model_args(name);
        if (a.name.empty()) a.name = backend::unique_object_name("model");
        return a;
      }()) {
  init_graph(inputs, outputs);
  std::vector<Shape> shapes;
  for (const auto& x : inputs_) shapes.push_back(x.shape());
  maybe_build(shapes);
}

void Model::init_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs) {
  KEEL_CHECK(!inputs.empty() && !outputs.empty(), describe(), ": a model needs inputs and outputs");
  for (const auto& x : inputs) {
    KEEL_CHECK(x.defined() && x.layer()->class_name() == "InputLayer", describe(),
               ": model inputs must come from keras::Input()");
  }
  // Keras's _build_map: depth-first from the outputs; layer indices in pre-order.
  using NodeKey = std::pair<const Layer*, int64_t>;
  std::set<NodeKey> finished, in_progress;
  std::vector<NodeKey> decreasing;  // post-order
  std::map<const Layer*, int64_t> layer_indices;
  std::map<const Layer*, std::shared_ptr<Layer>> owners;
  std::function<void(const KerasTensor&)> visit = [&](const KerasTensor& t) {
    const Layer* layer = t.layer().get();
    const NodeKey key{layer, t.node_index()};
    if (finished.count(key)) return;
    KEEL_CHECK(!in_progress.count(key), describe(), ": the layer '", layer->name(), "' is part of a cycle");
    if (!layer_indices.count(layer)) layer_indices.emplace(layer, static_cast<int64_t>(layer_indices.size()));
    owners[layer] = t.layer();
    in_progress.insert(key);
    for (const KerasTensor& in : layer->inbound_nodes().at(t.node_index()).inputs) visit(in);
    finished.insert(key);
    in_progress.erase(key);
    decreasing.push_back(key);
  };
  for (const auto& o : outputs) {
    KEEL_CHECK(o.defined(), describe(), ": undefined output tensor");
    visit(o);
  }
  // Depths: outputs 0, a node's inputs at least one deeper; a layer's nodes at least its depth.
  std::map<NodeKey, int64_t> node_depth;
  std::map<const Layer*, int64_t> layer_depth;
  for (auto it = decreasing.rbegin(); it != decreasing.rend(); ++it) {
    int64_t depth = node_depth.count(*it) ? node_depth[*it] : 0;
    depth = std::max(depth, layer_depth.count(it->first) ? layer_depth[it->first] : int64_t{0});
    layer_depth[it->first] = depth;
    node_depth[*it] = depth;
    for (const KerasTensor& in : it->first->inbound_nodes().at(it->second).inputs) {
      const NodeKey parent{in.layer().get(), in.node_index()};
      node_depth[parent] = std::max(depth + 1, node_depth.count(parent) ? node_depth[parent] : int64_t{0});
    }
  }
  for (const auto& x : inputs) {
    const Layer* l = x.layer().get();
    if (!layer_depth.count(l)) {
      layer_depth[l] = 0;
      layer_indices[l] = -1;
      owners[l] = x.layer();
      node_depth[{l, 0}] = 0;
    }
  }
  // Every input the graph needs must be a model input.
  for (const auto& [key, depth] : node_depth) {
    (void)depth;
    if (key.first->class_name() != "InputLayer") continue;
    bool listed = false;
    for (const auto& x : inputs) listed = listed || x.layer().get() == key.first;
    KEEL_CHECK(listed, describe(), ": graph disconnected: the output needs input '", key.first->name(),
               "', which is not among the model's inputs");
  }
  std::vector<std::shared_ptr<Layer>> ordered;
  for (const auto& [l, owner] : owners) ordered.push_back(owner);
  std::stable_sort(ordered.begin(), ordered.end(), [&](const auto& a, const auto& b) {
    const int64_t da = layer_depth[a.get()], db = layer_depth[b.get()];
    if (da != db) return da > db;
    return layer_indices[a.get()] < layer_indices[b.get()];
  });
  std::map<std::string, int> counts;
  for (const auto& l : ordered) {
    KEEL_CHECK(++counts[l->name()] == 1, describe(), ": the layer name '", l->name(),
               "' is used 2 times in the model; all layer names should be unique");
  }
  std::vector<GraphNode> nodes;
  for (const auto& [key, depth] : node_depth) nodes.push_back({owners[key.first], key.second, depth});
  std::stable_sort(nodes.begin(), nodes.end(), [&](const GraphNode& a, const GraphNode& b) {
    if (a.depth != b.depth) return a.depth > b.depth;
    const int64_t ia = layer_indices[a.layer.get()], ib = layer_indices[b.layer.get()];
    if (ia != ib) return ia > ib;  // at one depth, run the layer met later in pre-order first
    return a.node_index < b.node_index;
  });
  inputs_ = inputs;
  outputs_ = outputs;
  layers_ = ordered;
  nodes_by_depth_ = nodes;
}

int64_t Model::model_node_index(const Layer* layer, int64_t node_index) const {
  int64_t k = 0;
  for (int64_t i = 0; i < node_index; ++i) {
    for (const auto& n : nodes_by_depth_) {
      if (n.layer.get() == layer && n.node_index == i) { ++k; break; }
    }
  }
  return k;
}

std::vector<std::vector<KerasTensor>> Model::node_inputs_in_model(const Layer& layer) const {
  std::vector<std::pair<int64_t, std::vector<KerasTensor>>> found;
  for (const auto& n : nodes_by_depth_) {
    if (n.layer.get() == &layer) found.emplace_back(n.node_index, layer.inbound_nodes().at(n.node_index).inputs);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::vector<KerasTensor>> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::vector<Shape> Model::layer_output_shapes(const Layer& layer) const {
  int64_t best = -1;
  for (const auto& n : nodes_by_depth_) {
    if (n.layer.get() == &layer && (best < 0 || n.node_index < best)) best = n.node_index;
  }
  if (best < 0) return {};
  return layer.inbound_nodes().at(best).output_shapes;
}

std::shared_ptr<Layer> Model::get_layer(const std::string& name) const {
  std::string names;
  for (const auto& l : layers()) {
    if (l->name() == name) return l;
    names += (names.empty() ? "" : ", ") + std::string("'") + l->name() + "'";
  }
  KEEL_FAIL("No such layer: '", name, "'. Existing layers are: [", names, "]");
}

std::shared_ptr<Layer> Model::get_layer(int64_t index) const {
  const auto ls = layers();
  KEEL_CHECK(index >= 0 && index < static_cast<int64_t>(ls.size()), describe(), ": asked for layer index ", index,
             " but the model only has ", ls.size(), " layers");
  return ls[index];
}

void Model::build_multi(const std::vector<Shape>&) {
  KEEL_CHECK(is_graph_network(), describe(), ": cannot build a model without inputs");
}

std::vector<Shape> Model::compute_output_shapes(const std::vector<Shape>&) const {
  std::vector<Shape> out;
  for (const auto& o : outputs_) out.push_back(o.shape());
  return out;
}

Tensor Model::conform_input(const Tensor& x, DType dtype) {
  if (!x.defined() || x.dtype() == dtype || x.dtype() == DType::string || dtype == DType::string) return x;
  return ops::cast(x, dtype);
}

std::vector<Tensor> Model::call_multi(const std::vector<Tensor>& xs, bool training) {
  KEEL_CHECK(xs.size() == inputs_.size(), describe(), ": expected ", inputs_.size(), " inputs, got ", xs.size());
  using Key = std::tuple<const Layer*, int64_t, int64_t>;
  std::map<Key, Tensor> values, masks;  // masks: Keras's _keras_mask of each value that has one
  for (size_t i = 0; i < xs.size(); ++i)
    values[{inputs_[i].layer().get(), inputs_[i].node_index(), 0}] = conform_input(xs[i], inputs_[i].dtype());
  for (const GraphNode& n : nodes_by_depth_) {
    if (n.layer->class_name() == "InputLayer") continue;
    const LayerNode& node = n.layer->inbound_nodes().at(n.node_index);
    std::vector<Tensor> ins, in_masks;
    bool masked = false;
    for (const KerasTensor& t : node.inputs) {
      const Key key{t.layer().get(), t.node_index(), t.tensor_index()};
      auto it = values.find(key);
      KEEL_CHECK(it != values.end(), describe(), ": no value for the input of layer '", n.layer->name(), "'");
      ins.push_back(it->second);
      auto m = masks.find(key);
      in_masks.push_back(m == masks.end() ? Tensor() : m->second);
      masked = masked || in_masks.back().defined();
    }
    const std::vector<Tensor> out_masks = n.layer->compute_mask(ins, in_masks);
    for (size_t k = 0; k < out_masks.size(); ++k)
      if (out_masks[k].defined()) masks[{n.layer.get(), n.node_index, static_cast<int64_t>(k)}] = out_masks[k];
    std::vector<Tensor> outs;
    if (masked) {
      outs = n.layer->call_with_masks(ins, in_masks, training);
    } else if (ins.size() == 1 && node.output_shapes.size() == 1) {
      outs.push_back((*n.layer)(ins[0], training));
    } else {
      outs = (*n.layer)(ins, training);
    }
    for (size_t k = 0; k < outs.size(); ++k) values[{n.layer.get(), n.node_index, static_cast<int64_t>(k)}] = outs[k];
  }
  std::vector<Tensor> result;
  last_output_masks_.clear();
  for (const auto& o : outputs_) {
    const Key key{o.layer().get(), o.node_index(), o.tensor_index()};
    result.push_back(values.at(key));
    auto m = masks.find(key);
    last_output_masks_.push_back(m == masks.end() ? Tensor() : m->second);
  }
  return result;
}

std::vector<Variable> Model::weights() const {
  std::vector<Variable> out;
  auto add = [&out](const Variable& v) {
    for (const Variable& o : out) if (o.is(v)) return;
    out.push_back(v);
  };
  for (const auto& l : layers()) for (const Variable& v : l->weights()) add(v);
  for (const Variable& v : legacy_weights()) add(v);  // the model's own, if any
  return out;
}

std::vector<TrackableChild> Model::trackable_children() const {
  std::vector<TrackableChild> out;
  int64_t with_weights = 0, index = 0;
  for (const auto& l : layers()) {
    if (!l->weights().empty()) out.push_back({"layer_with_weights-" + std::to_string(with_weights++), l, {}});
    out.push_back({"layer-" + std::to_string(index++), l, {}});
  }
  for (const auto& c : tracked()) out.push_back(c);
  return out;
}

namespace {
Json history_json(const Model& m, const KerasTensor& t, bool with_kwargs, int64_t node_index) {
  Json j = Json::array({t.layer()->name(), node_index, t.tensor_index()});
  if (with_kwargs) j.push_back(Json::object());
  (void)m;
  return j;
}
}  // namespace

Json Model::get_config() const {
  Json c;
  c["name"] = name();
  Json ls = Json::array();
  for (const auto& l : layers_) {
    Json e;
    e["class_name"] = l->class_name();
    e["config"] = l->get_config();
    e["name"] = l->name();
    Json nodes = Json::array();
    if (l->class_name() != "InputLayer") {
      for (const auto& ins : node_inputs_in_model(*l)) {
        Json node = Json::array();
        for (const KerasTensor& t : ins) {
          node.push_back(history_json(*this, t, true, model_node_index(t.layer().get(), t.node_index())));
        }
        nodes.push_back(node);
      }
    }
    e["inbound_nodes"] = nodes;
    ls.push_back(e);
  }
  c["layers"] = ls;
  Json in = Json::array(), out = Json::array();
  for (const auto& t : inputs_) in.push_back(history_json(*this, t, false, model_node_index(t.layer().get(), t.node_index())));
  for (const auto& t : outputs_) out.push_back(history_json(*this, t, false, model_node_index(t.layer().get(), t.node_index())));
  c["input_layers"] = in;
  c["output_layers"] = out;
  return c;
}

std::string Model::to_json() const {
  Json j;
  j["class_name"] = class_name();
  j["config"] = get_config();
  j["keras_version"] = kKerasVersion;
  j["backend"] = "tensorflow";
  return python_json_dumps(j);
}

}  // namespace keel::keras
