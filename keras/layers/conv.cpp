#include "keel/keras/layers/conv.h"

#include "keel/graph/error.h"
#include "keel/keras/layers/activations.h"
#include "keel/ops/conv.h"
#include "keel/ops/pool.h"

namespace keel::keras::layers {

namespace {
Json pair_json(int64_t a, int64_t b) { return Json::array({a, b}); }
void check_padding(const std::string& who, const std::string& p) {
  KEEL_CHECK(p == "valid" || p == "same", who, ": padding must be 'valid' or 'same', got '", p, "'");
}
// With "valid" padding the (dilated) window must fit in the input, else TensorFlow fails with a negative
// dimension; `what` is "kernel_size" or "pool_size". Unknown sizes (-1) are not checked.
void check_window_fits(const std::string& who, const char* what, const Shape& s, int64_t kh, int64_t kw,
                       int64_t dh, int64_t dw, const std::string& padding) {
  if (padding != "valid" || s.size() != 4) return;
  const int64_t window[2] = {(kh - 1) * dh + 1, (kw - 1) * dw + 1};
  for (int a = 0; a < 2; ++a) {
    const int64_t in = s[static_cast<size_t>(1 + a)];
    KEEL_CHECK(in < 0 || in >= window[a], who, ": negative dimension size caused by subtracting ", window[a],
               " from ", in, " on axis ", 1 + a, ": input ", keras_shape_str(s), ", ", what, " (", kh, ", ", kw,
               ")", dh != 1 || dw != 1 ? " dilated" : "", ", padding 'valid'");
  }
}
}  // namespace

int64_t conv_output_length(int64_t in, int64_t kernel, const std::string& padding, int64_t stride,
                           int64_t dilation) {
  if (in < 0) return -1;
  const int64_t dilated = (kernel - 1) * dilation + 1;
  if (padding == "same") return (in + stride - 1) / stride;
  const int64_t span = in - dilated + 1;
  return span <= 0 ? 0 : (span + stride - 1) / stride;
}

// ---- Conv2D

Conv2D::Conv2D(const Conv2DOptions& o)
    : LayerImpl<Conv2D>("Conv2D", o.base), opts_(o), activation_(activations::get(o.activation_, describe())) {
  KEEL_CHECK(o.filters_ > 0 && o.kernel_h_ > 0 && o.kernel_w_ > 0 && o.stride_h_ > 0 && o.stride_w_ > 0 &&
                 o.dilation_h_ > 0 && o.dilation_w_ > 0,
             describe(), ": filters, kernel_size, strides and dilation_rate must be positive");
  check_padding(describe(), o.padding_);
  input_spec_.ndim = 4;
}

void Conv2D::build(const Shape& s) {
  const int64_t in = s.back();
  KEEL_CHECK(in > 0, describe(), ": the channel dimension of the input must be known, got ", shape_str_none(s));
  kernel_ = add_weight("kernel", {opts_.kernel_h_, opts_.kernel_w_, in, opts_.filters_}, opts_.kernel_initializer_);
  if (opts_.use_bias_) bias_ = add_weight("bias", {opts_.filters_}, opts_.bias_initializer_);
  input_spec_.axes = {{-1, in}};
}

Shape Conv2D::compute_output_shape(const Shape& s) const {
  check_window_fits(describe(), "kernel_size", s, opts_.kernel_h_, opts_.kernel_w_, opts_.dilation_h_,
                    opts_.dilation_w_, opts_.padding_);
  return {s[0],
          conv_output_length(s[1], opts_.kernel_h_, opts_.padding_, opts_.stride_h_, opts_.dilation_h_),
          conv_output_length(s[2], opts_.kernel_w_, opts_.padding_, opts_.stride_w_, opts_.dilation_w_),
          opts_.filters_};
}

Tensor Conv2D::call(const Tensor& x, bool) {
  check_window_fits(describe(), "kernel_size", x.shape(), opts_.kernel_h_, opts_.kernel_w_, opts_.dilation_h_,
                    opts_.dilation_w_, opts_.padding_);
  auto p = ops::Conv2DParams()
               .strides(opts_.stride_h_, opts_.stride_w_)
               .dilation(opts_.dilation_h_, opts_.dilation_w_)
               .padding(opts_.padding_)
               .activation(activation_);
  return ops::conv2d(x, kernel_.value(), opts_.use_bias_ ? bias_.value() : Tensor(), p);
}

Json Conv2D::get_config() const {
  Json c = Layer::get_config();
  c["filters"] = opts_.filters_;
  c["kernel_size"] = pair_json(opts_.kernel_h_, opts_.kernel_w_);
  c["strides"] = pair_json(opts_.stride_h_, opts_.stride_w_);
  c["padding"] = opts_.padding_;
  c["data_format"] = "channels_last";
  c["dilation_rate"] = pair_json(opts_.dilation_h_, opts_.dilation_w_);
  c["groups"] = 1;
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

// ---- pooling

Pooling2D::Pooling2D(std::string class_name, const Pool2DOptions& o) : Layer(std::move(class_name), o.base), opts_(o) {
  if (opts_.stride_h_ == 0) opts_.stride_h_ = opts_.pool_h_;
  if (opts_.stride_w_ == 0) opts_.stride_w_ = opts_.pool_w_;
  KEEL_CHECK(opts_.pool_h_ > 0 && opts_.pool_w_ > 0 && opts_.stride_h_ > 0 && opts_.stride_w_ > 0, describe(),
             ": pool_size and strides must be positive");
  check_padding(describe(), opts_.padding_);
  input_spec_.ndim = 4;
}

void Pooling2D::check_pool_fits(const Shape& s) const {
  check_window_fits(describe(), "pool_size", s, opts_.pool_h_, opts_.pool_w_, 1, 1, opts_.padding_);
}

Shape Pooling2D::compute_output_shape(const Shape& s) const {
  check_pool_fits(s);
  return {s[0], conv_output_length(s[1], opts_.pool_h_, opts_.padding_, opts_.stride_h_),
          conv_output_length(s[2], opts_.pool_w_, opts_.padding_, opts_.stride_w_), s[3]};
}

Json Pooling2D::get_config() const {
  Json c = Layer::get_config();
  c["pool_size"] = pair_json(opts_.pool_h_, opts_.pool_w_);
  c["padding"] = opts_.padding_;
  c["strides"] = pair_json(opts_.stride_h_, opts_.stride_w_);
  c["data_format"] = "channels_last";
  return c;
}

namespace {
ops::Pool2DParams pool_params(const Pool2DOptions& o) {
  return ops::Pool2DParams().pool(o.pool_h_, o.pool_w_).strides(o.stride_h_, o.stride_w_).padding(o.padding_);
}
}  // namespace

MaxPooling2D::MaxPooling2D(const Pool2DOptions& o) : LayerImpl<MaxPooling2D, Pooling2D>("MaxPooling2D", o) {}
Tensor MaxPooling2D::call(const Tensor& x, bool) {
  check_pool_fits(x.shape());
  return ops::max_pool2d(x, pool_params(opts_));
}

AveragePooling2D::AveragePooling2D(const Pool2DOptions& o)
    : LayerImpl<AveragePooling2D, Pooling2D>("AveragePooling2D", o) {}
Tensor AveragePooling2D::call(const Tensor& x, bool) {
  check_pool_fits(x.shape());
  return ops::avg_pool2d(x, pool_params(opts_));
}

// ---- GlobalAveragePooling2D

GlobalAveragePooling2D::GlobalAveragePooling2D(const GlobalPoolOptions& o)
    : LayerImpl<GlobalAveragePooling2D>("GlobalAveragePooling2D", o.base), keepdims_(o.keepdims_) {
  input_spec_.ndim = 4;
}

Tensor GlobalAveragePooling2D::call(const Tensor& x, bool) { return ops::global_avg_pool2d(x, keepdims_); }

Shape GlobalAveragePooling2D::compute_output_shape(const Shape& s) const {
  if (keepdims_) return {s[0], 1, 1, s[3]};
  return {s[0], s[3]};
}

Json GlobalAveragePooling2D::get_config() const {
  Json c = Layer::get_config();
  c["data_format"] = "channels_last";
  // Keras 2.4 (the version keel's files declare) has no keepdims and rejects unknown arguments; Keras
  // 2.6+ writes it. Written only when it matters, read when present.
  if (keepdims_) c["keepdims"] = true;
  return c;
}

}  // namespace keel::keras::layers
