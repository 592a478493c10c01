// training_config: Keras's compile arguments as JSON, both ways.
#include "keel/keras/saving/training_config.h"

#include "keel/graph/error.h"

namespace keel::keras {

Json training_config(const Model& model) {
  const CompileOptions* o = model.compile_options();
  KEEL_CHECK(o != nullptr && o->optimizer() && o->loss(), "training_config: model '", model.name(),
             "' is not compiled");
  Json tc;
  if (o->loss_name()) {
    tc["loss"] = *o->loss_name();
  } else {
    tc["loss"] = Json{{"class_name", o->loss()->class_name()}, {"config", Json(o->loss()->get_config())}};
  }
  Json metrics = Json::array();
  for (const MetricSpec& m : o->metrics()) {
    metrics.push_back(m.object ? Json(serialize_metric(*m.object)) : Json(m.name));
  }
  tc["metrics"] = metrics;
  tc["weighted_metrics"] = nullptr;
  tc["loss_weights"] = nullptr;
  tc["optimizer_config"] = Json(serialize_optimizer(*model.optimizer()));
  return tc;
}

CompileOptions compile_options_from_training_config(const nlohmann::json& tc, const std::string& file) {
  KEEL_CHECK(tc.is_object(), "load_model: training_config of ", file, " is not a JSON object");
  KEEL_CHECK(tc.contains("optimizer_config") && tc.contains("loss"), "load_model: training_config of ", file,
             " lacks ", tc.contains("loss") ? "optimizer_config" : "loss");
  for (const char* key : {"weighted_metrics", "loss_weights"}) {
    KEEL_CHECK(!tc.contains(key) || tc[key].is_null(), "load_model: training_config of ", file, ": '", key,
               "' = ", tc[key].dump(), " is not supported (only null)");
  }
  CompileOptions o;
  try {
    o.optimizer(optimizer_from_config(tc["optimizer_config"]));
    const nlohmann::json& loss = tc["loss"];
    if (loss.is_string()) {
      o.loss(loss.get<std::string>());
    } else {
      o.loss(loss_from_config(loss));
    }
    std::vector<std::shared_ptr<MeanMetricWrapper>> metrics;
    std::vector<MetricSpec> specs;
    if (tc.contains("metrics") && !tc["metrics"].is_null()) {
      nlohmann::json list = tc["metrics"];
      KEEL_CHECK(list.is_array(), "'metrics' must be a list, got ", list.dump());
      // Keras 2.11+ nests metrics per output: [[m1, m2]] for a single-output model.
      if (list.size() == 1 && list[0].is_array()) list = nlohmann::json(list[0]);
      for (const auto& m : list) {
        if (m.is_string()) {
          specs.emplace_back(m.get<std::string>());
        } else {
          specs.emplace_back(metric_from_config(m, o.loss().get()));
        }
      }
    }
    o.metrics(std::move(specs));
  } catch (const Error& e) {
    throw Error("load_model: cannot compile from the training_config of " + file + ": " + e.what());
  }
  return o;
}

}  // namespace keel::keras
