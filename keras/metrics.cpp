#include "keel/keras/metrics.h"

#include <cmath>
#include <map>
#include <mutex>

#include "keel/graph/error.h"
#include "keel/keras/losses.h"

namespace keel::keras {

namespace {

std::vector<double> as_doubles(const Tensor& t, const char* what) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  dispatch_numeric(t.dtype(), what, [&](auto z) {
    using T = decltype(z);
    const T* p = static_cast<const T*>(t.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
  });
  return out;
}

Shape squeeze_last(const Shape& s) { return Shape(s.begin(), s.end() - 1); }

// Keras's squeeze_or_expand_dimensions(y_pred, y_true) on shapes.
void match_ranks(Shape& t, Shape& p) {
  const auto diff = static_cast<int64_t>(p.size()) - static_cast<int64_t>(t.size());
  if (diff == 1 && p.back() == 1)
    p = squeeze_last(p);
  else if (diff == -1 && t.back() == 1)
    t = squeeze_last(t);
}

std::string shapes(const Tensor& y_true, const Tensor& y_pred) {
  return "y_true " + shape_str(y_true.shape()) + ", y_pred " + shape_str(y_pred.shape());
}

// Index of the first maximum of row r of a [rows, c] matrix.
int64_t argmax_row(const std::vector<double>& m, int64_t r, int64_t c) {
  int64_t best = 0;
  for (int64_t k = 1; k < c; ++k)
    if (m[static_cast<size_t>(r * c + k)] > m[static_cast<size_t>(r * c + best)]) best = k;
  return best;
}

enum class Kind { accuracy, sparse_categorical, categorical, binary, mse, mae };

const char* kind_fn(Kind k) {
  switch (k) {
    case Kind::accuracy: return "accuracy";
    case Kind::sparse_categorical: return "sparse_categorical_accuracy";
    case Kind::categorical: return "categorical_accuracy";
    case Kind::binary: return "binary_accuracy";
    case Kind::mse: return "mean_squared_error";
    case Kind::mae: return "mean_absolute_error";
  }
  return "accuracy";
}

// Per-sample values of one kind; `name` names the metric in errors.
void kind_values(Kind kind, const std::string& name, double threshold, const Tensor& y_true, const Tensor& y_pred,
                 std::vector<double>& out) {
  const std::vector<double> t = as_doubles(y_true, name.c_str());
  const std::vector<double> p = as_doubles(y_pred, name.c_str());
  if (kind == Kind::sparse_categorical || kind == Kind::categorical) {
    KEEL_CHECK(y_pred.dim() >= 1 && y_pred.size(-1) > 0, name, ": y_pred needs a class axis, got ", shapes(y_true, y_pred));
    const int64_t c = y_pred.size(-1);
    const int64_t rows = y_pred.numel() / c;
    if (kind == Kind::sparse_categorical) {
      KEEL_CHECK(y_true.numel() == rows, name, ": expected one label per row of y_pred, got ", shapes(y_true, y_pred));
      for (int64_t r = 0; r < rows; ++r)
        out.push_back(static_cast<double>(argmax_row(p, r, c)) == t[static_cast<size_t>(r)] ? 1.0 : 0.0);
    } else {
      KEEL_CHECK(y_true.shape() == y_pred.shape(), name, ": shapes differ: ", shapes(y_true, y_pred));
      for (int64_t r = 0; r < rows; ++r) out.push_back(argmax_row(p, r, c) == argmax_row(t, r, c) ? 1.0 : 0.0);
    }
    return;
  }
  Shape ts = y_true.shape(), ps = y_pred.shape();
  match_ranks(ts, ps);
  KEEL_CHECK(ts == ps, name, ": shapes differ: ", shapes(y_true, y_pred));
  if (kind == Kind::accuracy) {
    for (size_t i = 0; i < p.size(); ++i) out.push_back(p[i] == t[i] ? 1.0 : 0.0);
    return;
  }
  // Mean over the last axis (a scalar is one group of one).
  const int64_t group = ps.empty() ? 1 : ps.back();
  if (group == 0) return;
  const int64_t groups = static_cast<int64_t>(p.size()) / group;
  for (int64_t gi = 0; gi < groups; ++gi) {
    double s = 0;
    for (int64_t k = 0; k < group; ++k) {
      const size_t i = static_cast<size_t>(gi * group + k);
      if (kind == Kind::binary)
        s += ((p[i] > threshold ? 1.0 : 0.0) == t[i]) ? 1.0 : 0.0;
      else if (kind == Kind::mse)
        s += (p[i] - t[i]) * (p[i] - t[i]);
      else
        s += std::abs(p[i] - t[i]);
    }
    out.push_back(s / static_cast<double>(group));
  }
}

// Keras's shape rule for "accuracy" when the loss does not decide.
Kind accuracy_kind_from_shapes(const Tensor& y_true, const Tensor& y_pred) {
  const int64_t p_last = y_pred.dim() > 0 ? y_pred.size(-1) : 1;
  const int64_t t_last = y_true.dim() > 0 ? y_true.size(-1) : 1;
  if (p_last == 1) return Kind::binary;
  if (y_true.dim() < y_pred.dim() || (t_last == 1 && p_last > 1)) return Kind::sparse_categorical;
  return Kind::categorical;
}

// What compile() builds from a metric name: Keras's MeanMetricWrapper(fn, name).
class FnMetric : public MeanMetricWrapper {
 public:
  FnMetric(std::string name, Kind kind, bool resolve_from_shapes)
      : MeanMetricWrapper(std::move(name)), kind_(kind), pending_(resolve_from_shapes) {}
  std::string class_name() const override { return "MeanMetricWrapper"; }
  std::string fn_name() const override { return kind_fn(kind_); }
  Kind kind() const { return kind_; }
  bool pending() const { return pending_; }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const override {
    if (pending_) {
      kind_ = accuracy_kind_from_shapes(y_true, y_pred);
      pending_ = false;
    }
    kind_values(kind_, name(), 0.5, y_true, y_pred, out);
  }

 private:
  mutable Kind kind_;
  mutable bool pending_;
};

}  // namespace

// ---- Metric

Metric::Metric(std::string name) : name_(std::move(name)) {
  KEEL_CHECK(!name_.empty(), "Metric: empty name");
  total_ = Variable("total", Tensor::scalar(0, DType::f32), /*trainable=*/false);
  count_ = Variable("count", Tensor::scalar(0, DType::f32), /*trainable=*/false);
  track_variable("total", total_);
  track_variable("count", count_);
}

Metric::~Metric() = default;

double Metric::result() const {
  const float c = count_.value().item<float>();
  if (c == 0.0f) return 0.0;
  return static_cast<double>(total_.value().item<float>() / c);
}

void Metric::reset_state() {
  total_.assign(Tensor::scalar(0, DType::f32));
  count_.assign(Tensor::scalar(0, DType::f32));
}

void Metric::accumulate(double weighted_sum, double weight_sum) {
  Tensor t = total_.value(), c = count_.value();
  t.data<float>()[0] += static_cast<float>(weighted_sum);
  c.data<float>()[0] += static_cast<float>(weight_sum);
}

nlohmann::json Metric::get_config() const { return {{"name", name_}, {"dtype", "float32"}}; }

// ---- Mean

Mean::Mean(std::string name) : Metric(std::move(name)) {}

void Mean::update_state(double value, double weight) { accumulate(value * weight, weight); }

void Mean::update_state(const Tensor& values, const Tensor& sample_weight) {
  const std::vector<double> v = as_doubles(values, name().c_str());
  if (!sample_weight.defined()) {
    double s = 0;
    for (double x : v) s += x;
    accumulate(s, static_cast<double>(v.size()));
    return;
  }
  const std::vector<double> w = as_doubles(sample_weight, name().c_str());
  KEEL_CHECK(w.size() == 1 || sample_weight.shape() == values.shape(), name(), ": sample_weight ",
             shape_str(sample_weight.shape()), " does not match values ", shape_str(values.shape()));
  double s = 0, ws = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double wi = w.size() == 1 ? w[0] : w[i];
    s += v[i] * wi;
    ws += wi;
  }
  accumulate(s, ws);
}

// ---- MeanMetricWrapper

void MeanMetricWrapper::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  KEEL_CHECK(y_true.defined() && y_pred.defined(), name(), ": y_true and y_pred must be defined");
  std::vector<double> v;
  values(y_true, y_pred, v);
  double s = 0, ws = 0;
  if (!sample_weight.defined()) {
    for (double x : v) s += x;
    ws = static_cast<double>(v.size());
  } else {
    const std::vector<double> w = as_doubles(sample_weight, name().c_str());
    // One weight per sample (the first axis) applies to all of that sample's values (Accuracy compares
    // elementwise; a sequence has one value per step), as Keras broadcasts [N, 1] weights.
    const bool per_sample = !w.empty() && w.size() < v.size() && sample_weight.dim() >= 1 && y_true.dim() >= 1 &&
                            static_cast<int64_t>(w.size()) == y_true.size(0) && v.size() % w.size() == 0;
    KEEL_CHECK(w.size() == 1 || w.size() == v.size() || per_sample, name(), ": sample_weight ",
               shape_str(sample_weight.shape()), " does not give one weight per value (", v.size(),
               " values) or per sample (y_true ", shape_str(y_true.shape()), ")");
    const size_t repeat = per_sample ? v.size() / w.size() : 1;
    for (size_t i = 0; i < v.size(); ++i) {
      const double wi = w.size() == 1 ? w[0] : w[i / repeat];
      s += v[i] * wi;
      ws += wi;
    }
  }
  accumulate(s, ws);
}

nlohmann::json MeanMetricWrapper::get_config() const {
  nlohmann::json c = Metric::get_config();
  if (class_name() == "MeanMetricWrapper") c["fn"] = fn_name();
  return c;
}

void Accuracy::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::accuracy, name(), 0.5, y_true, y_pred, out);
}
void SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::sparse_categorical, name(), 0.5, y_true, y_pred, out);
}
void CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::categorical, name(), 0.5, y_true, y_pred, out);
}
void BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::binary, name(), threshold_, y_true, y_pred, out);
}
nlohmann::json BinaryAccuracy::get_config() const {
  nlohmann::json c = MeanMetricWrapper::get_config();
  c["threshold"] = threshold_;
  return c;
}
void MeanSquaredErrorMetric::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::mse, name(), 0.5, y_true, y_pred, out);
}
void MeanAbsoluteErrorMetric::values(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out) const {
  kind_values(Kind::mae, name(), 0.5, y_true, y_pred, out);
}

// ---- by name

namespace {

struct CustomMetrics {
  std::mutex mutex;
  std::map<std::string, MetricFactory> by_name;
};
CustomMetrics& custom_metrics() {
  static CustomMetrics* r = new CustomMetrics;
  return *r;
}
MetricFactory find_custom_metric(const std::string& name) {
  CustomMetrics& r = custom_metrics();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? MetricFactory() : it->second;
}

}  // namespace

void register_metric(const std::string& class_name, MetricFactory factory) {
  KEEL_CHECK(!class_name.empty() && factory, "register_metric: empty class name or factory");
  CustomMetrics& r = custom_metrics();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_name[class_name] = std::move(factory);
}

nlohmann::json serialize_metric(const Metric& metric) {
  return {{"class_name", metric.class_name()}, {"config", metric.get_config()}};
}

std::shared_ptr<MeanMetricWrapper> metric_from_config(const nlohmann::json& spec, const Loss* loss) {
  if (spec.is_string()) return metric_from_name(spec.get<std::string>(), loss);
  KEEL_CHECK(spec.is_object() && spec.contains("class_name") && spec["class_name"].is_string(),
             "metric_from_config: expected a name or {\"class_name\": ..., \"config\": {...}}, got ", spec.dump());
  const std::string cls = spec["class_name"].get<std::string>();
  const nlohmann::json config = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  KEEL_CHECK(config.is_object(), cls, ": metric config must be a JSON object, got ", config.dump());
  if (auto custom = find_custom_metric(cls)) return custom(config);
  std::string name;
  if (config.contains("name")) {
    KEEL_CHECK(config["name"].is_string(), cls, ": metric config 'name' must be a string, got ", config["name"].dump());
    name = config["name"].get<std::string>();
  }
  if (cls == "MeanMetricWrapper") {
    KEEL_CHECK(config.contains("fn") && config["fn"].is_string(), "MeanMetricWrapper '", name,
               "': config needs the function name 'fn', got ", config.dump());
    const std::string fn = config["fn"].get<std::string>();
    const auto by_fn = metric_from_name(fn, loss);
    if (name.empty() || name == by_fn->name()) return by_fn;
    // Keras's MeanMetricWrapper(fn, name): the function's values under the given name.
    const auto* f = dynamic_cast<const FnMetric*>(by_fn.get());
    KEEL_CHECK(f != nullptr, "MeanMetricWrapper '", name, "': function '", fn, "' is not a metric function");
    return std::make_shared<FnMetric>(name, f->kind(), f->pending());
  }
  std::shared_ptr<MeanMetricWrapper> m;
  if (cls == "BinaryAccuracy") {
    const double threshold = config.contains("threshold") && config["threshold"].is_number()
                                 ? config["threshold"].get<double>() : 0.5;
    m = std::make_shared<BinaryAccuracy>(name.empty() ? "binary_accuracy" : name, threshold);
  } else if (cls == "Accuracy") {
    m = name.empty() ? std::make_shared<Accuracy>() : std::make_shared<Accuracy>(name);
  } else if (cls == "SparseCategoricalAccuracy") {
    m = name.empty() ? std::make_shared<SparseCategoricalAccuracy>() : std::make_shared<SparseCategoricalAccuracy>(name);
  } else if (cls == "CategoricalAccuracy") {
    m = name.empty() ? std::make_shared<CategoricalAccuracy>() : std::make_shared<CategoricalAccuracy>(name);
  } else if (cls == "MeanSquaredError") {
    m = name.empty() ? std::make_shared<MeanSquaredErrorMetric>() : std::make_shared<MeanSquaredErrorMetric>(name);
  } else if (cls == "MeanAbsoluteError") {
    m = name.empty() ? std::make_shared<MeanAbsoluteErrorMetric>() : std::make_shared<MeanAbsoluteErrorMetric>(name);
  }
  KEEL_CHECK(m != nullptr, "metric class '", cls,
             "' is not known (register it with keras::register_metric(\"", cls, "\", factory))");
  return m;
}

std::shared_ptr<MeanMetricWrapper> metric_from_name(const std::string& name, const Loss* loss) {
  if (auto custom = find_custom_metric(name)) return custom(nlohmann::json::object());
  if (name == "accuracy" || name == "acc") {
    if (dynamic_cast<const SparseCategoricalCrossentropy*>(loss))
      return std::make_shared<FnMetric>(name, Kind::sparse_categorical, false);
    if (dynamic_cast<const CategoricalCrossentropy*>(loss))
      return std::make_shared<FnMetric>(name, Kind::categorical, false);
    if (dynamic_cast<const BinaryCrossentropy*>(loss)) return std::make_shared<FnMetric>(name, Kind::binary, false);
    return std::make_shared<FnMetric>(name, Kind::sparse_categorical, /*resolve_from_shapes=*/true);
  }
  if (name == "sparse_categorical_accuracy") return std::make_shared<FnMetric>(name, Kind::sparse_categorical, false);
  if (name == "categorical_accuracy") return std::make_shared<FnMetric>(name, Kind::categorical, false);
  if (name == "binary_accuracy") return std::make_shared<FnMetric>(name, Kind::binary, false);
  if (name == "mse" || name == "mean_squared_error") return std::make_shared<FnMetric>(name, Kind::mse, false);
  if (name == "mae" || name == "mean_absolute_error") return std::make_shared<FnMetric>(name, Kind::mae, false);
  if (name == "Accuracy") return std::make_shared<Accuracy>();
  if (name == "SparseCategoricalAccuracy") return std::make_shared<SparseCategoricalAccuracy>();
  if (name == "CategoricalAccuracy") return std::make_shared<CategoricalAccuracy>();
  if (name == "BinaryAccuracy") return std::make_shared<BinaryAccuracy>();
  if (name == "MeanSquaredError") return std::make_shared<MeanSquaredErrorMetric>();
  if (name == "MeanAbsoluteError") return std::make_shared<MeanAbsoluteErrorMetric>();
  KEEL_FAIL("metric '", name,
            "' is not known (known: accuracy/acc, sparse_categorical_accuracy, categorical_accuracy, "
            "binary_accuracy, mse, mae, and the class names)");
}

}  // namespace keel::keras
