// training_config: Keras's compile arguments as JSON, both ways.
#include "keel/keras/saving/training_config.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "keel/graph/error.h"

namespace keel::keras {

namespace {

// A loss as Keras's serialize_keras_object writes it: the name it was given by, or the object.
Json loss_json(const std::shared_ptr<Loss>& loss, const std::optional<std::string>& name) {
  if (name) return Json(*name);
  return Json{{"class_name", loss->class_name()}, {"config", Json(loss->get_config())}};
}

Json metrics_json(const std::vector<MetricSpec>& list) {
  Json metrics = Json::array();
  for (const MetricSpec& m : list) metrics.push_back(m.object ? Json(serialize_metric(*m.object)) : Json(m.name));
  return metrics;
}

// Keras's _deserialize_nested_config: a string or an object with "class_name" is one object.
bool is_single_object(const nlohmann::json& j) { return j.is_string() || (j.is_object() && j.contains("class_name")); }

LossSpec loss_spec(const nlohmann::json& j) {
  if (j.is_string()) return LossSpec(j.get<std::string>());
  return LossSpec(loss_from_config(j));
}

std::vector<MetricSpec> metric_specs(const nlohmann::json& list, const char* key, const Loss* loss) {
  KEEL_CHECK(list.is_array(), "'", key, "' must be a list, got ", list.dump());
  std::vector<MetricSpec> specs;
  for (const auto& m : list) {
    if (m.is_string()) {
      specs.emplace_back(m.get<std::string>());
    } else {
      specs.emplace_back(metric_from_config(m, loss));
    }
  }
  return specs;
}

// A "metrics" or "weighted_metrics" entry: a flat list (every output) or a dict of lists by output name.
// Names resolve against the output's loss: the one loss, or the output's in a loss dict.
// Keras 2.11+ nests the lists per output ([[...], [...]], in model.outputs order): read as a dict by the
// model's output names, which keel writes back.
void read_metrics(nlohmann::json list, const char* key, const CompileOptions& o,
                  const std::vector<std::string>& output_names,
                  const std::function<void(std::vector<MetricSpec>)>& set_list,
                  const std::function<void(std::map<std::string, std::vector<MetricSpec>>)>& set_by_name) {
  const Loss* one_loss = o.loss().get();
  if (list.is_object()) {
    std::map<std::string, std::vector<MetricSpec>> by_name;
    for (const auto& [output, l] : list.items()) {
      const Loss* output_loss = one_loss;
      if (o.losses_by_output() && o.losses_by_output()->count(output))
        output_loss = o.losses_by_output()->at(output).object.get();
      by_name.emplace(output, metric_specs(l, key, output_loss));
    }
    set_by_name(std::move(by_name));
    return;
  }
  KEEL_CHECK(list.is_array(), "'", key, "' must be a list, got ", list.dump());
  // Keras 2.11+ nests metrics per output: [[m1, m2]] for a single-output model.
  if (list.size() == 1 && list[0].is_array()) list = nlohmann::json(list[0]);
  const bool nested = list.size() > 1 && std::all_of(list.begin(), list.end(), [](const nlohmann::json& m) {
                        return m.is_array() || m.is_null();
                      });
  if (nested) {
    KEEL_CHECK(list.size() == output_names.size(), "'", key, "' has one list per output (", list.size(),
               " lists), but the model has ", output_names.size(), " outputs (", quoted_names(output_names), ")");
    std::map<std::string, std::vector<MetricSpec>> by_name;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_null()) continue;
      const Loss* output_loss = one_loss;
      if (o.losses()) output_loss = (*o.losses()).at(i).object.get();
      if (o.losses_by_output() && o.losses_by_output()->count(output_names[i]))
        output_loss = o.losses_by_output()->at(output_names[i]).object.get();
      by_name.emplace(output_names[i], metric_specs(list[i], key, output_loss));
    }
    set_by_name(std::move(by_name));
    return;
  }
  for (const auto& m : list)
    KEEL_CHECK(!m.is_array(), "'", key, "' mixes lists and metrics (", list.dump(),
               "); keel reads a flat list, one list per output or a dict by output name");
  set_list(metric_specs(list, key, one_loss));
}

}  // namespace

// Keras 2.4 writes compile's arguments as given (saving_utils.model_metadata): the loss and loss_weights
// as one value, a list or a dict by output name; metrics as a list or a dict of lists.
Json training_config(const Model& model) {
  const CompileOptions* o = model.compile_options();
  KEEL_CHECK(o != nullptr && model.optimizer() && o->has_loss(), "training_config: model '", model.name(),
             "' is not compiled");
  Json tc;
  if (o->loss()) {
    tc["loss"] = loss_json(o->loss(), o->loss_name());
  } else if (o->losses()) {
    Json list = Json::array();
    for (const LossSpec& l : *o->losses()) list.push_back(loss_json(l.object, l.name));
    tc["loss"] = list;
  } else {
    Json by_name = Json::object();
    for (const auto& [output, l] : *o->losses_by_output()) by_name[output] = loss_json(l.object, l.name);
    tc["loss"] = by_name;
  }
  if (o->metrics_by_output()) {
    Json by_name = Json::object();
    for (const auto& [output, list] : *o->metrics_by_output()) by_name[output] = metrics_json(list);
    tc["metrics"] = by_name;
  } else {
    tc["metrics"] = metrics_json(o->metrics());
  }
  // Keras 2.4 writes the weighted metrics as compile got them, null when there are none.
  if (o->weighted_metrics_by_output()) {
    Json by_name = Json::object();
    for (const auto& [output, list] : *o->weighted_metrics_by_output()) by_name[output] = metrics_json(list);
    tc["weighted_metrics"] = by_name;
  } else if (!o->weighted_metrics().empty()) {
    tc["weighted_metrics"] = metrics_json(o->weighted_metrics());
  } else {
    tc["weighted_metrics"] = nullptr;
  }
  if (o->loss_weights()) {
    tc["loss_weights"] = Json(*o->loss_weights());
  } else if (o->loss_weights_by_output()) {
    Json by_name = Json::object();
    for (const auto& [output, w] : *o->loss_weights_by_output()) by_name[output] = w;
    tc["loss_weights"] = by_name;
  } else {
    tc["loss_weights"] = nullptr;
  }
  tc["optimizer_config"] = Json(serialize_optimizer(*model.optimizer()));
  return tc;
}

CompileOptions compile_options_from_training_config(const nlohmann::json& tc, const std::string& file,
                                                   const std::vector<std::string>& output_names) {
  KEEL_CHECK(tc.is_object(), "load_model: training_config of ", file, " is not a JSON object");
  KEEL_CHECK(tc.contains("optimizer_config") && tc.contains("loss"), "load_model: training_config of ", file,
             " lacks ", tc.contains("loss") ? "optimizer_config" : "loss");
  CompileOptions o;
  try {
    o.optimizer(optimizer_from_config(tc["optimizer_config"]));
    const nlohmann::json& loss = tc["loss"];
    if (is_single_object(loss)) {
      if (loss.is_string()) {
        o.loss(loss.get<std::string>());
      } else {
        o.loss(loss_from_config(loss));
      }
    } else if (loss.is_array()) {
      std::vector<LossSpec> list;
      for (const auto& l : loss) list.push_back(loss_spec(l));
      o.losses(std::move(list));
    } else {
      KEEL_CHECK(loss.is_object(), "'loss' must be a name, a loss, a list or a dict by output, got ", loss.dump());
      std::map<std::string, LossSpec> by_name;
      for (const auto& [output, l] : loss.items()) by_name.emplace(output, loss_spec(l));
      o.losses_by_output(std::move(by_name));
    }
    if (tc.contains("loss_weights") && !tc["loss_weights"].is_null()) {
      const nlohmann::json& w = tc["loss_weights"];
      if (w.is_array()) {
        o.loss_weights(w.get<std::vector<double>>());
      } else {
        KEEL_CHECK(w.is_object(), "'loss_weights' must be a list or a dict by output, got ", w.dump());
        o.loss_weights_by_output(w.get<std::map<std::string, double>>());
      }
    }
    // "accuracy" in a restored metrics list resolves against the one loss, or lazily from the shapes.
    if (tc.contains("metrics") && !tc["metrics"].is_null()) {
      read_metrics(tc["metrics"], "metrics", o, output_names, [&](std::vector<MetricSpec> list) { o.metrics(std::move(list)); },
                   [&](std::map<std::string, std::vector<MetricSpec>> by_name) {
                     o.metrics_by_output(std::move(by_name));
                   });
    } else {
      o.metrics({});
    }
    // Absent (files written before keel had them) or null: no weighted metrics.
    if (tc.contains("weighted_metrics") && !tc["weighted_metrics"].is_null()) {
      read_metrics(tc["weighted_metrics"], "weighted_metrics", o, output_names,
                   [&](std::vector<MetricSpec> list) { o.weighted_metrics(std::move(list)); },
                   [&](std::map<std::string, std::vector<MetricSpec>> by_name) {
                     o.weighted_metrics_by_output(std::move(by_name));
                   });
    }
  } catch (const Error& e) {
    throw Error("load_model: cannot compile from the training_config of " + file + ": " + e.what());
  }
  return o;
}

}  // namespace keel::keras
