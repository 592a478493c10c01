#include "keel/keras/layers/core.h"

#include "keel/checkpoint/generator_trackable.h"
#include "keel/graph/error.h"
#include "keel/keras/layers/activations.h"
#include "keel/ops/dropout.h"
#include "keel/ops/linalg.h"
#include "keel/ops/shape_ops.h"

namespace keel::keras::layers {

namespace {
Json shape_json(const Shape& s) {
  Json j = Json::array();
  for (int64_t d : s) j.push_back(d < 0 ? Json(nullptr) : Json(d));
  return j;
}
}  // namespace

// ---- Dense

Dense::Dense(const DenseOptions& o)
    : LayerImpl<Dense>("Dense", o.base), opts_(o), activation_(activations::get(o.activation_, describe())) {
  KEEL_CHECK(o.units_ > 0, describe(), ": units must be positive, got ", o.units_);
  input_spec_.min_ndim = 2;
}

void Dense::build(const Shape& s) {
  const int64_t in = s.empty() ? -1 : s.back();
  KEEL_CHECK(in > 0, describe(), ": the last dimension of the input must be known, got ", shape_str_none(s));
  kernel_ = add_weight("kernel", {in, opts_.units_}, opts_.kernel_initializer_, true);
  if (opts_.use_bias_) bias_ = add_weight("bias", {opts_.units_}, opts_.bias_initializer_, true);
  input_spec_.axes = {{-1, in}};
}

Tensor Dense::call(const Tensor& x, bool) {
  return ops::dense(x, kernel_.value(), opts_.use_bias_ ? bias_.value() : Tensor(), activation_);
}

Shape Dense::compute_output_shape(const Shape& s) const {
  KEEL_CHECK(s.size() >= 2, describe(), ": expected input of rank at least 2, got ", shape_str_none(s));
  Shape out = s;
  out.back() = opts_.units_;
  return out;
}

Json Dense::get_config() const {
  Json c = Layer::get_config();
  c["units"] = opts_.units_;
  c["activation"] = activations::serialize(activation_);
  c["use_bias"] = opts_.use_bias_;
  c["kernel_initializer"] = initializers::serialize(*opts_.kernel_initializer_);
  c["bias_initializer"] = initializers::serialize(*opts_.bias_initializer_);
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"}) {
    c[k] = nullptr;
  }
  return c;
}

// ---- Dropout

Dropout::Dropout(const DropoutOptions& o) : LayerImpl<Dropout>("Dropout", o.base), opts_(o) {
  KEEL_CHECK(o.rate_ >= 0 && o.rate_ < 1, describe(), ": rate must be in [0, 1), got ", o.rate_);
  if (o.seed_) generator() = Generator(*o.seed_);
  track_generator();
}

Dropout::Dropout(Dropout&& o) : LayerImpl<Dropout>(std::move(o)), opts_(o.opts_) { track_generator(); }

void Dropout::track_generator() {
  track("_random_generator", std::make_shared<GeneratorTrackable>(generator(), /*required=*/false));
}

Tensor Dropout::call(const Tensor& x, bool training) {
  if (!training || opts_.rate_ == 0) return x;
  return ops::dropout(x, opts_.rate_, generator(), true);
}

Json Dropout::get_config() const {
  Json c = Layer::get_config();
  c["rate"] = opts_.rate_;
  c["noise_shape"] = nullptr;
  c["seed"] = opts_.seed_ ? Json(*opts_.seed_) : Json(nullptr);
  return c;
}

// ---- Flatten

Flatten::Flatten(const FlattenOptions& o) : LayerImpl<Flatten>("Flatten", o.base) { input_spec_.min_ndim = 1; }

Tensor Flatten::call(const Tensor& x, bool) {
  if (x.dim() == 1) return ops::reshape(x, {x.size(0), 1});
  return ops::flatten(x);
}

Shape Flatten::compute_output_shape(const Shape& s) const {
  int64_t n = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < 0) { n = -1; break; }
    KEEL_CHECK(!__builtin_mul_overflow(n, s[i], &n), describe(), ": the element count of input ", shape_str_none(s),
               " overflows int64");
  }
  return {s.empty() ? -1 : s[0], n};
}

Json Flatten::get_config() const {
  Json c = Layer::get_config();
  c["data_format"] = "channels_last";
  return c;
}

// ---- Reshape

Reshape::Reshape(const ReshapeOptions& o) : LayerImpl<Reshape>("Reshape", o.base), opts_(o) {
  int unknown = 0;
  int64_t known = 1;
  for (int64_t d : o.target_shape_) {
    KEEL_CHECK(d == -1 || d > 0, describe(), ": invalid target_shape ", shape_str(o.target_shape_));
    unknown += d == -1;
    KEEL_CHECK(d == -1 || !__builtin_mul_overflow(known, d, &known), describe(), ": the element count of target_shape ",
               shape_str(o.target_shape_), " overflows int64");
  }
  KEEL_CHECK(unknown <= 1, describe(), ": at most one -1 in target_shape, got ", shape_str(o.target_shape_));
}

Shape Reshape::compute_output_shape(const Shape& s) const {
  Shape out{s.empty() ? -1 : s[0]};
  out.insert(out.end(), opts_.target_shape_.begin(), opts_.target_shape_.end());
  int64_t in = 1, known = 1, unknown_at = -1;
  for (size_t i = 1; i < s.size() && in >= 0; ++i) {
    if (s[i] < 0) { in = -1; break; }
    KEEL_CHECK(!__builtin_mul_overflow(in, s[i], &in), describe(), ": the element count of input ", shape_str_none(s),
               " overflows int64");
  }
  for (size_t i = 0; i < opts_.target_shape_.size(); ++i) {
    if (opts_.target_shape_[i] == -1) unknown_at = static_cast<int64_t>(i) + 1; else known *= opts_.target_shape_[i];
  }
  if (in >= 0) {
    KEEL_CHECK(unknown_at >= 0 ? in % known == 0 : in == known, describe(), ": cannot reshape input ",
               shape_str_none(s), " to target_shape ", shape_str(opts_.target_shape_));
    if (unknown_at >= 0) out[unknown_at] = in / known;
  }
  return out;
}

Tensor Reshape::call(const Tensor& x, bool) {
  Shape target = compute_output_shape(x.shape());
  target[0] = x.dim() > 0 ? x.size(0) : 1;
  return ops::reshape(x, target);
}

Json Reshape::get_config() const {
  Json c = Layer::get_config();
  c["target_shape"] = shape_json(opts_.target_shape_);
  return c;
}

// ---- Activation

Activation::Activation(const ActivationOptions& o)
    : LayerImpl<Activation>("Activation", o.base), activation_(activations::get(o.activation_, describe())) {}

Tensor Activation::call(const Tensor& x, bool) { return ops::activate(x, activation_); }

Json Activation::get_config() const {
  Json c = Layer::get_config();
  c["activation"] = activations::serialize(activation_);
  return c;
}

}  // namespace keel::keras::layers
