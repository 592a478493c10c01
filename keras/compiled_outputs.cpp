#include "keel/keras/compiled_outputs.h"

#include <algorithm>
#include <set>

#include "keel/graph/error.h"
#include "keel/keras/sample_weights.h"
#include "keel/ops/elementwise.h"

namespace keel::keras {

namespace {

// "its outputs are 'a', 'b'" for messages.
std::string outputs_are(const std::vector<std::string>& names) {
  return names.empty() ? std::string("the model does not name its output") : "its outputs are " + quoted_names(names);
}

// Every key of a *_by_output map must name an output (Keras: "Found unexpected keys that do not
// correspond to any Model output").
template <class V>
void check_keys(const std::map<std::string, V>& by_name, const std::vector<std::string>& names, const char* setter) {
  for (const auto& [key, value] : by_name) {
    (void)value;
    KEEL_CHECK(std::find(names.begin(), names.end(), key) != names.end(), "compile: ", setter, " names '", key,
               "', which is not an output of the model (", outputs_are(names), ")");
  }
}

template <class T>
void check_count(const std::vector<T>& list, const std::vector<std::string>& names, const char* setter) {
  const size_t outputs = std::max<size_t>(names.size(), 1);
  KEEL_CHECK(list.size() == outputs, "compile: ", setter, " has ", list.size(), " entries, but the model has ",
             outputs, outputs == 1 ? " output" : " outputs", names.empty() ? "" : " (" + quoted_names(names) + ")",
             "; give one per output, in order");
}

// A metric for one output of several: a fresh object (Keras copies a flat list's objects through their
// config). keel copies metrics_by_output's objects too, where Keras renames the given object: renamed,
// it would be saved under its new name in training_config and renamed again when load_model compiles.
std::shared_ptr<MeanMetricWrapper> copy_for_output(const MetricSpec& m, const Loss* loss) {
  if (!m.object) return metric_from_name(m.name, loss);
  return metric_from_config(serialize_metric(*m.object), loss);
}

}  // namespace

CompiledOutputs::CompiledOutputs(const CompileOptions& options, const std::vector<std::string>& output_names) {
  KEEL_CHECK(options.has_loss(), "compile: no loss given");
  const std::vector<std::string>& names = output_names;
  const size_t n = std::max<size_t>(names.size(), 1);
  const bool several = n > 1;
  outputs_.resize(n);
  for (size_t i = 0; i < n; ++i) outputs_[i].name = names.empty() ? std::string() : names[i];

  if (options.loss()) {
    for (auto& o : outputs_) o.loss = options.loss();  // one object for every output, as Keras
  } else if (options.losses()) {
    check_count(*options.losses(), names, "losses");
    for (size_t i = 0; i < n; ++i) outputs_[i].loss = (*options.losses())[i].object;
  } else {
    const auto& by_name = *options.losses_by_output();
    KEEL_CHECK(!names.empty(), "compile: losses_by_output needs output names, and the model does not name its output");
    check_keys(by_name, names, "losses_by_output");
    for (auto& o : outputs_) {
      auto it = by_name.find(o.name);
      if (it != by_name.end()) o.loss = it->second.object;
    }
  }
  if (options.loss_weights()) {
    check_count(*options.loss_weights(), names, "loss_weights");
    for (size_t i = 0; i < n; ++i) outputs_[i].weight = (*options.loss_weights())[i];
  } else if (options.loss_weights_by_output()) {
    const auto& by_name = *options.loss_weights_by_output();
    check_keys(by_name, names, "loss_weights_by_output");
    for (auto& o : outputs_) {
      auto it = by_name.find(o.name);
      if (it != by_name.end()) o.weight = it->second;
    }
  }
  KEEL_CHECK(std::any_of(outputs_.begin(), outputs_.end(), [](const CompiledOutput& o) { return o.loss != nullptr; }),
             "compile: no output has a loss (losses_by_output names none of ", quoted_names(names), ")");
  if (several) {
    for (auto& o : outputs_)
      if (o.loss) o.loss_tracker = std::make_shared<Mean>(o.name + "_loss");
  }

  add_metrics(options.metrics(), options.metrics_by_output(), "metrics_by_output", names,
              &CompiledOutput::metrics);
  add_metrics(options.weighted_metrics(), options.weighted_metrics_by_output(), "weighted_metrics_by_output", names,
              &CompiledOutput::weighted_metrics);
  // One output takes the given objects: one object in both lists would be renamed for both
  // ("weighted_<name>") and updated twice a step.
  for (const auto& o : outputs_)
    for (const auto& w : o.weighted_metrics)
      KEEL_CHECK(std::find(o.metrics.begin(), o.metrics.end(), w) == o.metrics.end(), "compile: the metric object '",
                 w->name(), "' is in both metrics and weighted_metrics; give each list its own object");
  name_metrics();
}

// One list for every output, or lists by output name. One output takes the objects as given (the
// user's objects keep their names and state), several take copies (copy_for_output); names resolve
// against the output's loss.
void CompiledOutputs::add_metrics(const std::vector<MetricSpec>& list,
                                  const std::optional<std::map<std::string, std::vector<MetricSpec>>>& by_output,
                                  const char* setter, const std::vector<std::string>& names,
                                  std::vector<std::shared_ptr<MeanMetricWrapper>> CompiledOutput::*member) {
  if (by_output) {
    KEEL_CHECK(!names.empty(), "compile: ", setter, " needs output names, and the model does not name its output");
    check_keys(*by_output, names, setter);
    for (auto& o : outputs_) {
      auto it = by_output->find(o.name);
      if (it == by_output->end()) continue;
      for (const MetricSpec& m : it->second) (o.*member).push_back(copy_for_output(m, o.loss.get()));
    }
  } else if (outputs_.size() == 1) {
    CompiledOutput& o = outputs_[0];
    for (const MetricSpec& m : list) (o.*member).push_back(m.object ? m.object : metric_from_name(m.name, o.loss.get()));
  } else {
    for (auto& o : outputs_)
      for (const MetricSpec& m : list) (o.*member).push_back(copy_for_output(m, o.loss.get()));
  }
}

// Keras 2.4's MetricsContainer._set_metric_names, output by output: with several outputs a metric is
// "<output>_<name>"; a weighted metric whose name is taken by a plain one of its output becomes
// "weighted_<name>" (one output) or "<output>_weighted_<name>"; any other clash is an error.
void CompiledOutputs::name_metrics() {
  const bool several = outputs_.size() > 1;
  std::set<std::string> seen;
  auto claim = [&](const Metric& m) {
    KEEL_CHECK(seen.insert(m.name()).second, "compile: two metrics are named '", m.name(),
               "'; give each metric of an output its own name");
  };
  for (auto& o : outputs_) {
    for (const auto& m : o.metrics) {
      if (several) m->set_name(o.name + "_" + m->name());
      claim(*m);
    }
    for (const auto& m : o.weighted_metrics) {
      if (several)
        m->set_name(o.name + (seen.count(o.name + "_" + m->name()) ? "_weighted_" : "_") + m->name());
      else if (seen.count(m->name()))
        m->set_name("weighted_" + m->name());
      claim(*m);
    }
  }
}

Tensor CompiledOutputs::total_loss(const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred,
                                   const std::vector<Tensor>& sample_weight, std::vector<Tensor>& per_output,
                                   const std::vector<Tensor>& masks) const {
  KEEL_CHECK(y_true.size() == outputs_.size() && y_pred.size() == outputs_.size(), "the model has ",
             outputs_.size(), " compiled outputs but got ", y_true.size(), " targets and ", y_pred.size(),
             " predictions");
  KEEL_CHECK(sample_weight.empty() || sample_weight.size() == outputs_.size(), "the model has ", outputs_.size(),
             " compiled outputs but got ", sample_weight.size(), " sample weights");
  per_output.assign(outputs_.size(), Tensor());
  Tensor total;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const CompiledOutput& o = outputs_[i];
    if (!o.loss) continue;
    const Tensor sw = sample_weight.empty() ? Tensor() : sample_weight[i];
    per_output[i] = (*o.loss)(y_true[i], y_pred[i], i < masks.size() ? detail::masked_sample_weight(sw, masks[i]) : sw);
    const Tensor term = o.weight ? ops::mul(per_output[i], *o.weight) : per_output[i];
    total = total.defined() ? ops::add(total, term) : term;
  }
  return total;
}

void CompiledOutputs::update(const std::vector<Tensor>& per_output, const std::vector<Tensor>& y_true,
                             const std::vector<Tensor>& y_pred, const std::vector<Tensor>& sample_weight,
                             double batch_size, const std::vector<Tensor>& masks) {
  for (size_t i = 0; i < outputs_.size(); ++i) {
    CompiledOutput& o = outputs_[i];
    if (o.loss_tracker && per_output[i].defined()) o.loss_tracker->update_state(per_output[i].item<double>(), batch_size);
    const Tensor mask = i < masks.size() ? masks[i] : Tensor();
    // Unweighted, as Keras 2.4, but for the mask.
    const Tensor mask_weight = mask.defined() ? detail::masked_sample_weight(Tensor(), mask) : Tensor();
    for (const auto& m : o.metrics) m->update_state(y_true[i], y_pred[i], mask_weight);
    const Tensor w = detail::masked_sample_weight(sample_weight.empty() ? Tensor() : sample_weight[i], mask);
    for (const auto& m : o.weighted_metrics) m->update_state(y_true[i], y_pred[i], w);
  }
}

std::vector<std::shared_ptr<Metric>> CompiledOutputs::metrics() const {
  std::vector<std::shared_ptr<Metric>> out;
  for (const auto& o : outputs_)
    if (o.loss_tracker) out.push_back(o.loss_tracker);
  for (const auto& o : outputs_) {
    for (const auto& m : o.metrics) out.push_back(m);
    for (const auto& m : o.weighted_metrics) out.push_back(m);
  }
  return out;
}

}  // namespace keel::keras
