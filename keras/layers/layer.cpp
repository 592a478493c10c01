#include "keel/keras/layers/layer.h"

#include <set>
#include <sstream>

#include "keel/graph/error.h"
#include "keel/keras/layers/backend.h"
#include "keel/keras/layers/weight_budget.h"
#include "keel/ops/elementwise.h"

namespace keel::keras {

std::string keras_shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0) os << ", ";
    if (s[i] < 0) os << "None"; else os << s[i];
  }
  if (s.size() == 1) os << ",";
  os << ")";
  return os.str();
}

std::string shape_str_none(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0) os << ",";
    if (s[i] < 0) os << "None"; else os << s[i];
  }
  os << "]";
  return os.str();
}

Layer::Layer(std::string class_name, const LayerArgs& args)
    : class_name_(std::move(class_name)), trainable_(args.trainable), seed_(backend::next_seed()),
      generator_(mix_seed(seed_, 0x64726f70ull)) {
  name_ = args.name.empty() ? backend::unique_object_name(backend::to_snake_case(class_name_)) : args.name;
  if (args.input_shape) {
    Shape s{args.batch_size ? *args.batch_size : -1};
    s.insert(s.end(), args.input_shape->begin(), args.input_shape->end());
    set_batch_input_shape(s);
  }
}

void Layer::set_batch_input_shape(const Shape& s) {
  for (int64_t d : s) {
    KEEL_CHECK(d >= -1, describe(), ": invalid input shape ", shape_str(s),
               ": a dimension is a size (>= 0) or None (-1)");
  }
  batch_input_shape_ = s;
}

Layer::Layer(Layer&& o)
    : Trackable(), input_spec_(std::move(o.input_spec_)), batch_input_shape_(std::move(o.batch_input_shape_)),
      class_name_(std::move(o.class_name_)), name_(std::move(o.name_)), weight_scope_(std::move(o.weight_scope_)),
      trainable_(o.trainable_),
      built_(o.built_), seed_(o.seed_), generator_(o.generator_), weights_(std::move(o.weights_)),
      build_shapes_(std::move(o.build_shapes_)), nodes_(std::move(o.nodes_)) {
  for (const auto& c : o.tracked()) {
    if (c.object) track(c.name, c.object); else track_variable(c.name, c.variable);
  }
}

Layer::~Layer() = default;

std::string Layer::describe() const { return class_name_ + " '" + name_ + "'"; }

void Layer::set_weight_scope(std::string scope) {
  KEEL_CHECK(!built_ && weights_.empty(), describe(), ": the weight scope '", scope,
             "' must be set before the layer is built");
  weight_scope_ = std::move(scope);
}

std::shared_ptr<Layer> Layer::into_shared() && {
  KEEL_FAIL(describe(), ": this layer class cannot be moved into a model; hold it in a std::shared_ptr");
}

// ---- input checks and building

void Layer::check_input_spec(const std::vector<Shape>& shapes) const {
  const InputSpec& spec = input_spec_;
  if (spec.ndim < 0 && spec.min_ndim < 0 && spec.axes.empty()) return;
  for (const Shape& s : shapes) {
    const int64_t rank = static_cast<int64_t>(s.size());
    KEEL_CHECK(spec.ndim < 0 || rank == spec.ndim, describe(), ": expected input of rank ", spec.ndim,
               ", got ", shape_str_none(s));
    KEEL_CHECK(spec.min_ndim < 0 || rank >= spec.min_ndim, describe(), ": expected input of rank at least ",
               spec.min_ndim, ", got ", shape_str_none(s));
    for (const auto& [axis, size] : spec.axes) {
      const int64_t a = axis < 0 ? axis + rank : axis;
      if (a < 0 || a >= rank) continue;
      if (s[a] < 0 || s[a] == size) continue;
      if (axis == -1) {
        KEEL_FAIL(describe(), ": expected input with last dimension ", size, ", got ", shape_str_none(s));
      }
      KEEL_FAIL(describe(), ": expected input with dimension ", size, " on axis ", axis, ", got ",
                shape_str_none(s));
    }
  }
}

void Layer::maybe_build(const std::vector<Shape>& input_shapes) {
  if (built_) return;
  check_input_spec(input_shapes);
  build_multi(input_shapes);
  build_shapes_ = input_shapes;
  built_ = true;
}

void Layer::build(const Shape&) {}

void Layer::build_multi(const std::vector<Shape>& input_shapes) {
  KEEL_CHECK(input_shapes.size() == 1, describe(), ": expected 1 input, got ", input_shapes.size());
  build(input_shapes[0]);
}

Tensor Layer::call(const Tensor& x, bool training) {
  KEEL_CHECK(!in_default_call_, describe(), ": the layer implements neither call nor call_multi");
  in_default_call_ = true;
  std::vector<Tensor> out;
  try {
    out = call_multi({x}, training);
  } catch (...) {
    in_default_call_ = false;
    throw;
  }
  in_default_call_ = false;
  KEEL_CHECK(out.size() == 1, describe(), ": the call gives ", out.size(),
             " outputs; call the layer on a list of inputs to get them all");
  return out[0];
}

std::vector<Tensor> Layer::call_multi(const std::vector<Tensor>& xs, bool training) {
  KEEL_CHECK(xs.size() == 1, describe(), ": expected 1 input, got ", xs.size());
  KEEL_CHECK(!in_default_call_, describe(), ": the layer implements neither call nor call_multi");
  in_default_call_ = true;
  Tensor y;
  try {
    y = call(xs[0], training);
  } catch (...) {
    in_default_call_ = false;
    throw;
  }
  in_default_call_ = false;
  return {y};
}

Shape Layer::compute_output_shape(const Shape& input_shape) const { return input_shape; }

std::vector<Shape> Layer::compute_output_shapes(const std::vector<Shape>& input_shapes) const {
  KEEL_CHECK(input_shapes.size() == 1, describe(), ": expected 1 input, got ", input_shapes.size());
  return {compute_output_shape(input_shapes[0])};
}

DType Layer::compute_output_dtype(const std::vector<DType>&) const { return DType::f32; }

namespace {
std::vector<Shape> unknown_batch(std::vector<Shape> shapes) {
  for (Shape& s : shapes) if (!s.empty()) s[0] = -1;
  return shapes;
}

// x cast to float32 when it is another floating dtype and the layer autocasts (differentiable: the
// gradient flows back in x's dtype).
Tensor autocast_input(const Layer& layer, const Tensor& x) {
  if (!layer.autocast() || x.dtype() == DType::f32 || !is_floating(x.dtype())) return x;
  return ops::cast(x, DType::f32);
}

// Called while handling `e`, an error raised inside a layer's call: when it is an op's complaint about
// a non-float32 input's dtype (the op's message names that dtype), throws an error naming the layer and
// the input instead; otherwise rethrows `e`. Floating inputs are cast before the call (autocast), so
// this is for integer inputs to layers that compute on values (Dense on int32 ids, say).
[[noreturn]] void rethrow_naming_dtype(const std::string& who, const Tensor* xs, size_t n, const Error& e) {
  const std::string what = e.what();
  if (what.rfind(who, 0) != 0) {
    for (size_t i = 0; i < n; ++i) {
      const Tensor& x = xs[i];
      if (x.dtype() == DType::f32 || what.find(dtype_name(x.dtype())) == std::string::npos) continue;
      throw Error(who + ": called on a " + dtype_name(x.dtype()) + " input " + shape_str(x.shape()) +
                  "; the layer computes in f32, cast the input first (" + what + ")");
    }
  }
  throw;
}
}  // namespace

Tensor Layer::operator()(const Tensor& x, bool training) {
  KEEL_CHECK(x.defined(), describe(), ": called on an undefined tensor");
  const std::vector<Shape> shapes{x.shape()};
  check_input_spec(shapes);
  maybe_build(unknown_batch(shapes));
  check_input_spec(shapes);
  try {
    return call(autocast_input(*this, x), training);
  } catch (const Error& e) {
    rethrow_naming_dtype(describe(), &x, 1, e);
  }
}

std::vector<Tensor> Layer::operator()(const std::vector<Tensor>& xs, bool training) {
  return call_with_masks(xs, {}, training);
}

namespace {
bool any_mask(const std::vector<Tensor>& masks) {
  for (const Tensor& m : masks)
    if (m.defined()) return true;
  return false;
}
}  // namespace

void Layer::check_masks_supported(const std::vector<Tensor>& masks) const {
  if (supports_masking()) return;
  for (const Tensor& m : masks)
    KEEL_CHECK(!m.defined(), describe(), ": does not support masking, but its input has a mask ",
               shape_str(m.shape()), " (from an Embedding with mask_zero=true, or a layer passing its mask on)");
}

std::vector<Tensor> Layer::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (!any_mask(masks)) return {};
  check_masks_supported(masks);
  for (const Tensor& m : masks)
    if (m.defined()) return {m};
  return {};
}

std::vector<Tensor> Layer::call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>&, bool training) {
  return call_multi(xs, training);
}

std::vector<Tensor> Layer::call_with_masks(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks,
                                           bool training) {
  const bool masked = any_mask(masks);
  if (masked) {
    check_masks_supported(masks);
    KEEL_CHECK(masks.size() == xs.size(), describe(), ": ", xs.size(), " inputs but ", masks.size(), " masks");
  }
  std::vector<Shape> shapes;
  for (const Tensor& x : xs) {
    KEEL_CHECK(x.defined(), describe(), ": called on an undefined tensor");
    shapes.push_back(x.shape());
  }
  check_input_spec(shapes);
  maybe_build(unknown_batch(shapes));
  check_input_spec(shapes);
  try {
    std::vector<Tensor> cast;
    cast.reserve(xs.size());
    for (const Tensor& x : xs) cast.push_back(autocast_input(*this, x));
    return masked ? call_masked(cast, masks, training) : call_multi(cast, training);
  } catch (const Error& e) {
    rethrow_naming_dtype(describe(), xs.data(), xs.size(), e);
  }
}

// ---- symbolic calls

std::shared_ptr<Layer> Layer::shared_self(const char* what) {
  auto self = std::static_pointer_cast<Layer>(weak_from_this().lock());
  KEEL_CHECK(self != nullptr, describe(), ": to call a layer on a ", what,
             ", hold it in a std::shared_ptr (or call a temporary)");
  return self;
}

std::vector<KerasTensor> Layer::call_symbolic(std::shared_ptr<Layer> self, const std::vector<KerasTensor>& xs) {
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  for (const KerasTensor& x : xs) {
    KEEL_CHECK(x.defined(), describe(), ": called on an undefined KerasTensor");
    shapes.push_back(x.shape());
    dtypes.push_back(x.dtype());
  }
  check_input_spec(shapes);
  maybe_build(shapes);
  check_input_spec(shapes);
  LayerNode node;
  node.inputs = xs;
  node.output_shapes = compute_output_shapes(shapes);
  const DType out_dtype = compute_output_dtype(dtypes);
  node.output_dtypes.assign(node.output_shapes.size(), out_dtype);
  const int64_t index = static_cast<int64_t>(nodes_.size());
  nodes_.push_back(node);
  std::vector<KerasTensor> out;
  for (size_t i = 0; i < node.output_shapes.size(); ++i) {
    out.emplace_back(node.output_shapes[i], out_dtype, self, index, static_cast<int64_t>(i));
  }
  return out;
}

int64_t Layer::add_node(LayerNode node) {
  nodes_.push_back(std::move(node));
  return static_cast<int64_t>(nodes_.size()) - 1;
}

KerasTensor Layer::operator()(const KerasTensor& x) & {
  auto out = call_symbolic(shared_self("KerasTensor"), {x});
  KEEL_CHECK(out.size() == 1, describe(), ": the call gives ", out.size(),
             " outputs; call the layer on a list of inputs to get them all");
  return out[0];
}

KerasTensor Layer::operator()(const KerasTensor& x) && {
  auto self = std::move(*this).into_shared();
  return (*self)(x);
}

std::vector<KerasTensor> Layer::operator()(const std::vector<KerasTensor>& xs) & {
  return call_symbolic(shared_self("KerasTensor"), xs);
}

std::vector<KerasTensor> Layer::operator()(const std::vector<KerasTensor>& xs) && {
  auto self = std::move(*this).into_shared();
  return (*self)(xs);
}

// ---- weights

Variable Layer::make_weight(const std::string& full_name, const Shape& shape, const InitializerPtr& init,
                            bool trainable) {
  KEEL_CHECK(init != nullptr, describe(), ": weight '", full_name, "' has no initializer");
  for (int64_t d : shape) {
    KEEL_CHECK(d >= 0, describe(), ": weight '", full_name, "' has an unknown dimension in ",
               shape_str_none(shape));
  }
  const int64_t bytes = weight_bytes(shape, 4);  // layer weights are float32
  KEEL_CHECK(bytes != INT64_MAX, describe(), ": weight '", full_name, "' ", shape_str(shape),
             " has more bytes than int64 counts");
  charge_weight_budget(describe(), full_name, shape, 4);
  Generator gen(mix_seed(seed_, weights_.size() + 1));
  try {
    return Variable(full_name, (*init)(shape, gen), trainable);
  } catch (const AllocationError&) {
    KEEL_FAIL(describe(), ": weight '", full_name, "' ", shape_str(shape), " needs ", bytes,
              " bytes, which cannot be allocated");
  }
}

void Layer::register_weight(const Variable& v) { weights_.push_back(v); }

Variable Layer::add_weight(const std::string& name, const Shape& shape, const InitializerPtr& init,
                           bool trainable) {
  KEEL_CHECK(!name.empty(), describe(), ": a weight name must not be empty");
  const std::string full = weight_prefix() + "/" + name;
  for (const Variable& w : weights_) {
    KEEL_CHECK(w.name() != full, describe(), ": duplicate weight name '", name, "'");
  }
  Variable v = make_weight(full, shape, init, trainable);
  register_weight(v);
  track_variable(name, v);
  return v;
}

void Layer::collect(std::vector<Variable>& out, bool want_trainable, bool parent_trainable) const {
  const bool effective = parent_trainable && trainable_;
  auto add = [&](const Variable& v) {
    for (const Variable& o : out) if (o.is(v)) return;
    out.push_back(v);
  };
  if (want_trainable) {
    if (effective) for (const Variable& v : weights_) if (v.trainable()) add(v);
  } else {
    // Keras lists a frozen layer's trainable variables before its non-trainable ones.
    if (!effective) for (const Variable& v : weights_) if (v.trainable()) add(v);
    for (const Variable& v : weights_) if (!v.trainable()) add(v);
  }
  for (const auto& l : sublayers()) l->collect(out, want_trainable, effective);
}

std::vector<Variable> Layer::trainable_weights() const {
  std::vector<Variable> out;
  collect(out, true, true);
  return out;
}

std::vector<Variable> Layer::non_trainable_weights() const {
  std::vector<Variable> out;
  collect(out, false, true);
  return out;
}

std::vector<Variable> Layer::weights() const { return legacy_weights(); }

std::vector<Variable> Layer::legacy_weights() const {
  std::vector<Variable> out = trainable_weights();
  for (const Variable& v : non_trainable_weights()) {
    bool seen = false;
    for (const Variable& o : out) seen = seen || o.is(v);
    if (!seen) out.push_back(v);
  }
  return out;
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (const Variable& v : weights()) out.push_back(v.value().detach().clone());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& values) {
  const auto ws = weights();
  KEEL_CHECK(values.size() == ws.size(), describe(), ": expected ", ws.size(), " weights, got ",
             values.size());
  for (size_t i = 0; i < ws.size(); ++i) {
    KEEL_CHECK(values[i].shape() == ws[i].shape(), describe(), ": weight '", ws[i].name(), "' has shape ",
               shape_str(ws[i].shape()), ", got ", shape_str(values[i].shape()));
  }
  for (size_t i = 0; i < ws.size(); ++i) ws[i].assign(values[i].to(ws[i].dtype()));
}

int64_t Layer::count_params() const {
  KEEL_CHECK(built_, describe(), ": count_params needs a built layer (call it on an input first)");
  int64_t n = 0;
  for (const Variable& v : weights()) n += v.value().numel();
  return n;
}

Json Layer::get_config() const {
  Json c;
  c["name"] = name_;
  c["trainable"] = trainable_;
  c["dtype"] = "float32";
  if (batch_input_shape_) {
    Json s = Json::array();
    for (int64_t d : *batch_input_shape_) s.push_back(d < 0 ? Json(nullptr) : Json(d));
    c["batch_input_shape"] = s;
  }
  return c;
}

}  // namespace keel::keras
