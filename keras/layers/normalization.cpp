#include "keel/keras/layers/normalization.h"

#include "keel/graph/error.h"
#include "keel/ops/normalization.h"

namespace keel::keras::layers {

namespace {
Json axis_json(int64_t axis) { return axis >= 0 ? Json::array({axis}) : Json(axis); }

// Only the last axis is supported; the configured axis is checked against the input's rank here,
// where the rank is known (a config's "axis": [1] on (None, 4, 6) is an error, not the last axis).
void check_last_axis(const std::string& who, int64_t axis, const Shape& s) {
  const auto rank = static_cast<int64_t>(s.size());
  KEEL_CHECK(axis == -1 || axis == rank - 1, who, ": only the last axis is supported, got axis ", axis,
             " for input ", keras_shape_str(s), " (the last axis is ", rank - 1, " or -1)");
}
}  // namespace

BatchNormalization::BatchNormalization(const BatchNormalizationOptions& o)
    : LayerImpl<BatchNormalization>("BatchNormalization", o.base), opts_(o) {
  KEEL_CHECK(o.epsilon_ > 0, describe(), ": epsilon must be positive, got ", o.epsilon_);
  input_spec_.min_ndim = 2;
}

void BatchNormalization::build(const Shape& s) {
  check_last_axis(describe(), opts_.axis_, s);
  const int64_t c = s.back();
  KEEL_CHECK(c > 0, describe(), ": the last dimension of the input must be known, got ", shape_str_none(s));
  axis_ = static_cast<int64_t>(s.size()) - 1;
  if (opts_.scale_) gamma_ = add_weight("gamma", {c}, opts_.gamma_initializer_, true);
  if (opts_.center_) beta_ = add_weight("beta", {c}, opts_.beta_initializer_, true);
  moving_mean_ = add_weight("moving_mean", {c}, opts_.moving_mean_initializer_, false);
  moving_variance_ = add_weight("moving_variance", {c}, opts_.moving_variance_initializer_, false);
  input_spec_.ndim = static_cast<int64_t>(s.size());
  input_spec_.axes = {{axis_, c}};
}

Tensor BatchNormalization::call(const Tensor& x, bool training) {
  ops::BatchNormParams p;
  p.training = training && trainable();
  p.momentum = opts_.momentum_;
  p.epsilon = opts_.epsilon_;
  p.unbiased_moving_variance = x.dim() == 4;  // Keras's fused kernel (TF 2.4: fused for 4-D inputs only)
  return ops::batch_norm(x, opts_.scale_ ? gamma_.value() : Tensor(), opts_.center_ ? beta_.value() : Tensor(),
                         moving_mean_, moving_variance_, p);
}

Json BatchNormalization::get_config() const {
  Json c = Layer::get_config();
  c["axis"] = axis_json(axis_);
  c["momentum"] = opts_.momentum_;
  c["epsilon"] = opts_.epsilon_;
  c["center"] = opts_.center_;
  c["scale"] = opts_.scale_;
  c["beta_initializer"] = initializers::serialize(*opts_.beta_initializer_);
  c["gamma_initializer"] = initializers::serialize(*opts_.gamma_initializer_);
  c["moving_mean_initializer"] = initializers::serialize(*opts_.moving_mean_initializer_);
  c["moving_variance_initializer"] = initializers::serialize(*opts_.moving_variance_initializer_);
  for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}) {
    c[k] = nullptr;
  }
  return c;
}

LayerNormalization::LayerNormalization(const LayerNormalizationOptions& o)
    : LayerImpl<LayerNormalization>("LayerNormalization", o.base), opts_(o) {
  KEEL_CHECK(o.epsilon_ > 0, describe(), ": epsilon must be positive, got ", o.epsilon_);
  input_spec_.min_ndim = 1;
}

void LayerNormalization::build(const Shape& s) {
  check_last_axis(describe(), opts_.axis_, s);
  const int64_t c = s.back();
  KEEL_CHECK(c > 0, describe(), ": the last dimension of the input must be known, got ", shape_str_none(s));
  axis_ = static_cast<int64_t>(s.size()) - 1;
  if (opts_.scale_) gamma_ = add_weight("gamma", {c}, opts_.gamma_initializer_, true);
  if (opts_.center_) beta_ = add_weight("beta", {c}, opts_.beta_initializer_, true);
  input_spec_.axes = {{-1, c}};
}

Tensor LayerNormalization::call(const Tensor& x, bool) {
  return ops::layer_norm(x, opts_.scale_ ? gamma_.value() : Tensor(), opts_.center_ ? beta_.value() : Tensor(),
                         opts_.epsilon_);
}

Json LayerNormalization::get_config() const {
  Json c = Layer::get_config();
  c["axis"] = axis_json(axis_);
  c["epsilon"] = opts_.epsilon_;
  c["center"] = opts_.center_;
  c["scale"] = opts_.scale_;
  c["beta_initializer"] = initializers::serialize(*opts_.beta_initializer_);
  c["gamma_initializer"] = initializers::serialize(*opts_.gamma_initializer_);
  for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}) {
    c[k] = nullptr;
  }
  return c;
}

}  // namespace keel::keras::layers
