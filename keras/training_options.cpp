#include "keel/keras/training_options.h"

#include "keel/graph/error.h"

namespace keel::keras {

CompileOptions& CompileOptions::optimizer(const std::string& name) {
  optimizer_ = optimizer_from_name(name);
  return *this;
}

CompileOptions& CompileOptions::optimizer(std::shared_ptr<Optimizer> optimizer) {
  KEEL_CHECK(optimizer != nullptr, "CompileOptions: null optimizer");
  optimizer_ = std::move(optimizer);
  return *this;
}

CompileOptions& CompileOptions::loss(const std::string& name) {
  loss_ = loss_from_name(name);
  loss_name_ = name;
  return *this;
}

CompileOptions& CompileOptions::loss(std::shared_ptr<Loss> loss) {
  KEEL_CHECK(loss != nullptr, "CompileOptions: null loss");
  loss_ = std::move(loss);
  loss_name_.reset();
  return *this;
}

CompileOptions& CompileOptions::metrics(std::vector<MetricSpec> metrics) {
  for (const auto& m : metrics)
    KEEL_CHECK(m.object || !m.name.empty(), "CompileOptions: a metric needs a name or an object");
  metrics_ = std::move(metrics);
  return *this;
}

CompileOptions& CompileOptions::metric(MetricSpec metric) {
  KEEL_CHECK(metric.object || !metric.name.empty(), "CompileOptions: a metric needs a name or an object");
  metrics_.push_back(std::move(metric));
  return *this;
}

std::vector<std::shared_ptr<MeanMetricWrapper>> CompileOptions::build_metrics() const {
  std::vector<std::shared_ptr<MeanMetricWrapper>> out;
  for (const auto& m : metrics_) out.push_back(m.object ? m.object : metric_from_name(m.name, loss_.get()));
  return out;
}

}  // namespace keel::keras
