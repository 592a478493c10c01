#include "keel/keras/training_options.h"

#include "keel/graph/error.h"

namespace keel::keras {

namespace {
// Every metric of a *_by_output map needs a name or an object; `kind` ("metric") names it in the error.
void check_named(const std::map<std::string, std::vector<MetricSpec>>& by_output_name, const char* kind) {
  for (const auto& [output, list] : by_output_name) {
    for (const auto& m : list)
      KEEL_CHECK(m.object || !m.name.empty(), "CompileOptions: a ", kind, " of output '", output,
                 "' needs a name or an object");
  }
}
}  // namespace

LossSpec::LossSpec(const char* name) : LossSpec(std::string(name)) {}

LossSpec::LossSpec(const std::string& name) : object(loss_from_name(name)), name(name) {}

void LossSpec::check() const { KEEL_CHECK(object != nullptr, "CompileOptions: null loss"); }

CompileOptions& CompileOptions::optimizer(const std::string& name) {
  (void)optimizer_from_name(name);  // an unknown name fails here, where it was written
  optimizer_.reset();
  optimizer_name_ = name;
  return *this;
}

CompileOptions& CompileOptions::optimizer(std::shared_ptr<Optimizer> optimizer) {
  KEEL_CHECK(optimizer != nullptr, "CompileOptions: null optimizer");
  optimizer_ = std::move(optimizer);
  optimizer_name_.reset();
  return *this;
}

std::shared_ptr<Optimizer> CompileOptions::build_optimizer() const {
  if (optimizer_name_) return optimizer_from_name(*optimizer_name_);
  return optimizer_;
}

CompileOptions& CompileOptions::loss(const std::string& name) {
  loss_ = loss_from_name(name);
  loss_name_ = name;
  loss_list_.reset();
  loss_map_.reset();
  return *this;
}

CompileOptions& CompileOptions::loss(std::shared_ptr<Loss> loss) {
  KEEL_CHECK(loss != nullptr, "CompileOptions: null loss");
  loss_ = std::move(loss);
  loss_name_.reset();
  loss_list_.reset();
  loss_map_.reset();
  return *this;
}

CompileOptions& CompileOptions::metrics(std::vector<MetricSpec> metrics) {
  for (const auto& m : metrics)
    KEEL_CHECK(m.object || !m.name.empty(), "CompileOptions: a metric needs a name or an object");
  metrics_ = std::move(metrics);
  metric_map_.reset();
  return *this;
}

CompileOptions& CompileOptions::metric(MetricSpec metric) {
  KEEL_CHECK(metric.object || !metric.name.empty(), "CompileOptions: a metric needs a name or an object");
  metric_map_.reset();
  metrics_.push_back(std::move(metric));
  return *this;
}

CompileOptions& CompileOptions::losses(std::vector<LossSpec> per_output) {
  KEEL_CHECK(!per_output.empty(), "CompileOptions: losses() needs one loss per output, got none");
  loss_.reset();
  loss_name_.reset();
  loss_map_.reset();
  loss_list_ = std::move(per_output);
  return *this;
}

CompileOptions& CompileOptions::losses_by_output(std::map<std::string, LossSpec> by_output_name) {
  KEEL_CHECK(!by_output_name.empty(), "CompileOptions: losses_by_output() got no losses");
  loss_.reset();
  loss_name_.reset();
  loss_list_.reset();
  loss_map_ = std::move(by_output_name);
  return *this;
}

CompileOptions& CompileOptions::loss_weights(std::vector<double> per_output) {
  weight_map_.reset();
  weight_list_ = std::move(per_output);
  return *this;
}

CompileOptions& CompileOptions::loss_weights_by_output(std::map<std::string, double> by_output_name) {
  weight_list_.reset();
  weight_map_ = std::move(by_output_name);
  return *this;
}

CompileOptions& CompileOptions::metrics_by_output(std::map<std::string, std::vector<MetricSpec>> by_output_name) {
  check_named(by_output_name, "metric");
  metrics_.clear();
  metric_map_ = std::move(by_output_name);
  return *this;
}

CompileOptions& CompileOptions::weighted_metrics(std::vector<MetricSpec> metrics) {
  for (const auto& m : metrics)
    KEEL_CHECK(m.object || !m.name.empty(), "CompileOptions: a weighted metric needs a name or an object");
  weighted_metrics_ = std::move(metrics);
  weighted_metric_map_.reset();
  return *this;
}

CompileOptions& CompileOptions::weighted_metrics_by_output(
    std::map<std::string, std::vector<MetricSpec>> by_output_name) {
  check_named(by_output_name, "weighted metric");
  weighted_metrics_.clear();
  weighted_metric_map_ = std::move(by_output_name);
  return *this;
}

}  // namespace keel::keras
