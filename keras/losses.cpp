#include "keel/keras/losses.h"

#include <functional>
#include <map>
#include <mutex>

#include "keel/graph/error.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/losses.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"

namespace keel::keras {

namespace {

// Keras's remove_squeezable_dimensions: a trailing size-1 axis goes when the ranks differ by one.
void match_ranks(Tensor& y_true, Tensor& y_pred) {
  const int64_t diff = y_pred.dim() - y_true.dim();
  if (diff == 1 && y_pred.size(-1) == 1)
    y_pred = ops::squeeze(y_pred, {-1});
  else if (diff == -1 && y_true.size(-1) == 1)
    y_true = ops::squeeze(y_true, {-1});
}

Tensor cast_like(const Tensor& y_true, const Tensor& y_pred) {
  return y_true.dtype() == y_pred.dtype() ? y_true : ops::cast(y_true, y_pred.dtype());
}

// Keras's squeeze_or_expand_dimensions(losses, sample_weight) and broadcast: a [N, 1] weight for [N]
// losses loses its last axis; a weight of lower rank ([N] for [N, T] losses of a sequence) gets trailing
// size-1 axes, so that each sample's weight applies to all of its losses.
Tensor align_weight(const Tensor& sample_weight, const Tensor& losses) {
  Tensor w = sample_weight;
  if (w.dim() == losses.dim() + 1 && w.size(-1) == 1) w = ops::squeeze(w, {-1});
  if (w.dim() >= 1 && w.dim() < losses.dim()) {
    Shape s = w.shape();
    s.resize(static_cast<size_t>(losses.dim()), 1);
    w = ops::reshape(w, s);
  }
  return w;
}

}  // namespace

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::auto_: return "auto";
    case Reduction::none: return "none";
    case Reduction::sum: return "sum";
    case Reduction::sum_over_batch_size: return "sum_over_batch_size";
  }
  return "auto";
}

Reduction reduction_from_name(const std::string& name) {
  for (Reduction r : {Reduction::auto_, Reduction::none, Reduction::sum, Reduction::sum_over_batch_size})
    if (name == reduction_name(r)) return r;
  KEEL_FAIL("loss reduction '", name, "' is not one of auto, none, sum, sum_over_batch_size");
}

Loss::Loss(const LossOptions& options, const char* default_name)
    : options_(options), name_(options.name().empty() ? default_name : options.name()),
      reduction_(options.reduction()) {}

Loss::~Loss() = default;

Tensor Loss::operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) const {
  KEEL_CHECK(y_true.defined() && y_pred.defined(), class_name(), " '", name_, "': y_true and y_pred must be defined");
  Tensor losses = call(y_true, y_pred);
  Tensor weighted = losses;
  if (sample_weight.defined()) {
    const Tensor w = align_weight(sample_weight, losses);
    bool fits = w.numel() == 1 || w.dim() == losses.dim();
    for (int64_t i = 0; fits && w.numel() != 1 && i < w.dim(); ++i)
      fits = w.size(i) == 1 || w.size(i) == losses.size(i);
    KEEL_CHECK(fits, class_name(), " '", name_, "': sample_weight ", shape_str(sample_weight.shape()),
               " does not fit the per-sample losses ", shape_str(losses.shape()), " of y_true ",
               shape_str(y_true.shape()), " and y_pred ", shape_str(y_pred.shape()),
               ": give one weight per sample or one per loss");
    weighted = ops::mul(losses, cast_like(w, losses));
  }
  if (reduction_ == Reduction::none) return weighted;
  Tensor total = ops::sum(weighted);
  if (reduction_ == Reduction::sum) return total;
  if (losses.numel() == 0) return Tensor::scalar(0, losses.dtype());
  return ops::div(total, static_cast<double>(losses.numel()));
}

nlohmann::json Loss::get_config() const {
  return {{"reduction", reduction_name(reduction_)}, {"name", name_}};
}

SparseCategoricalCrossentropy::SparseCategoricalCrossentropy(const LossOptions& o)
    : Loss(o, "sparse_categorical_crossentropy") {}

Tensor SparseCategoricalCrossentropy::call(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor labels = y_true;
  if (labels.dim() == y_pred.dim() && labels.dim() > 0 && labels.size(-1) == 1) labels = ops::squeeze(labels, {-1});
  if (labels.dtype() != DType::i32 && labels.dtype() != DType::i64) labels = ops::cast(labels, DType::i64);
  return ops::sparse_categorical_crossentropy(y_pred, labels, from_logits());
}

nlohmann::json SparseCategoricalCrossentropy::get_config() const {
  nlohmann::json c = Loss::get_config();
  c["from_logits"] = from_logits();
  c["ignore_class"] = nullptr;
  return c;
}

CategoricalCrossentropy::CategoricalCrossentropy(const LossOptions& o) : Loss(o, "categorical_crossentropy") {}

Tensor CategoricalCrossentropy::call(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  match_ranks(t, p);
  t = cast_like(t, p);
  const double ls = options().label_smoothing();
  if (ls > 0) {
    const double classes = static_cast<double>(p.dim() > 0 ? p.size(-1) : 1);
    t = ops::add(ops::mul(t, 1.0 - ls), ls / classes);
  }
  return ops::categorical_crossentropy(p, t, from_logits());
}

nlohmann::json CategoricalCrossentropy::get_config() const {
  nlohmann::json c = Loss::get_config();
  c["from_logits"] = from_logits();
  c["label_smoothing"] = options().label_smoothing();
  c["axis"] = -1;
  return c;
}

BinaryCrossentropy::BinaryCrossentropy(const LossOptions& o) : Loss(o, "binary_crossentropy") {}

Tensor BinaryCrossentropy::call(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  match_ranks(t, p);
  t = cast_like(t, p);
  const double ls = options().label_smoothing();
  if (ls > 0) t = ops::add(ops::mul(t, 1.0 - ls), 0.5 * ls);
  return ops::binary_crossentropy(p, t, from_logits());
}

nlohmann::json BinaryCrossentropy::get_config() const {
  nlohmann::json c = Loss::get_config();
  c["from_logits"] = from_logits();
  c["label_smoothing"] = options().label_smoothing();
  c["axis"] = -1;
  return c;
}

MeanSquaredError::MeanSquaredError(const LossOptions& o) : Loss(o, "mean_squared_error") {}

Tensor MeanSquaredError::call(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  match_ranks(t, p);
  return ops::mean_squared_error(p, cast_like(t, p));
}

MeanAbsoluteError::MeanAbsoluteError(const LossOptions& o) : Loss(o, "mean_absolute_error") {}

Tensor MeanAbsoluteError::call(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  match_ranks(t, p);
  return ops::mean_absolute_error(p, cast_like(t, p));
}

namespace {

using LossFactory = std::function<std::shared_ptr<Loss>(const LossOptions&)>;

template <class L>
LossFactory factory() {
  return [](const LossOptions& o) { return std::make_shared<L>(o); };
}

// Class name -> factory, and Keras's function names / aliases -> class name.
const std::map<std::string, LossFactory>& classes() {
  static const std::map<std::string, LossFactory> m = {
      {"SparseCategoricalCrossentropy", factory<SparseCategoricalCrossentropy>()},
      {"CategoricalCrossentropy", factory<CategoricalCrossentropy>()},
      {"BinaryCrossentropy", factory<BinaryCrossentropy>()},
      {"MeanSquaredError", factory<MeanSquaredError>()},
      {"MeanAbsoluteError", factory<MeanAbsoluteError>()}};
  return m;
}

const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> m = {
      {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"},
      {"categorical_crossentropy", "CategoricalCrossentropy"},
      {"binary_crossentropy", "BinaryCrossentropy"},
      {"mean_squared_error", "MeanSquaredError"}, {"mse", "MeanSquaredError"}, {"MSE", "MeanSquaredError"},
      {"mean_absolute_error", "MeanAbsoluteError"}, {"mae", "MeanAbsoluteError"}, {"MAE", "MeanAbsoluteError"}};
  return m;
}

const LossFactory& find_class(const std::string& name) {
  std::string cls = name;
  if (auto a = aliases().find(name); a != aliases().end()) cls = a->second;
  auto it = classes().find(cls);
  KEEL_CHECK(it != classes().end(), "loss '", name,
             "' is not known (known: sparse_categorical_crossentropy, categorical_crossentropy, "
             "binary_crossentropy, mean_squared_error/mse, mean_absolute_error/mae, or their class names)");
  return it->second;
}

struct CustomLosses {
  std::mutex mutex;
  std::map<std::string, CustomLossFactory> by_name;
};
CustomLosses& custom_losses() {
  static CustomLosses* r = new CustomLosses;
  return *r;
}
CustomLossFactory find_custom(const std::string& name) {
  CustomLosses& r = custom_losses();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? CustomLossFactory() : it->second;
}

}  // namespace

void register_loss(const std::string& class_name, CustomLossFactory factory) {
  KEEL_CHECK(!class_name.empty() && factory, "register_loss: empty class name or factory");
  CustomLosses& r = custom_losses();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.by_name[class_name] = std::move(factory);
}

std::shared_ptr<Loss> loss_from_name(const std::string& name) {
  if (auto custom = find_custom(name)) return custom(nlohmann::json::object());
  return find_class(name)(LossOptions());
}

std::shared_ptr<Loss> loss_from_config(const nlohmann::json& spec) {
  if (spec.is_string()) return loss_from_name(spec.get<std::string>());
  KEEL_CHECK(spec.is_object() && spec.contains("class_name") && spec["class_name"].is_string(),
             "loss_from_config: expected {\"class_name\": ..., \"config\": {...}} or a name, got ", spec.dump());
  const std::string cls = spec["class_name"].get<std::string>();
  const nlohmann::json config = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  if (auto custom = find_custom(cls)) return custom(config);
  const auto& make = find_class(cls);
  LossOptions o;
  KEEL_CHECK(config.is_object(), cls, ": loss config must be a JSON object, got ", config.dump());
  for (const auto& item : config.items()) {
    const std::string& key = item.key();
    const nlohmann::json& v = item.value();
    if (key == "name" && v.is_string()) {
      o.name(v.get<std::string>());
    } else if (key == "reduction" && v.is_string()) {
      o.reduction(reduction_from_name(v.get<std::string>()));
    } else if (key == "from_logits" && v.is_boolean()) {
      o.from_logits(v.get<bool>());
    } else if (key == "label_smoothing" && v.is_number()) {
      o.label_smoothing(v.get<double>());
    } else if (key == "axis" && v.is_number_integer()) {
      KEEL_CHECK(v.get<int64_t>() == -1, cls, ": only axis -1 is supported, got ", v.dump());
    } else if (key == "ignore_class") {
      KEEL_CHECK(v.is_null(), cls, ": ignore_class is not supported, got ", v.dump());
    } else if (key == "fn") {
      // Keras's LossFunctionWrapper names its function; the class already says which.
    } else {
      KEEL_FAIL(cls, ": unsupported loss config key '", key, "' = ", v.dump());
    }
  }
  return make(o);
}

}  // namespace keel::keras
