// Convolution and pooling layers, channels-last (NHWC) like Keras's default.
//
//   layers::Conv2D(Conv2DOptions(16, 3).activation("relu").input_shape({32, 32, 3}))
//   layers::Conv2D(32, 3)                        // filters, kernel_size
//   layers::MaxPooling2D(4)   layers::AveragePooling2D(Pool2DOptions(2).strides(1).padding("same"))
//   layers::GlobalAveragePooling2D()
#pragma once

#include <string>

#include "keel/keras/layers/layer.h"
#include "keel/ops/activation.h"

namespace keel::keras::layers {

struct Conv2DOptions : LayerOptions<Conv2DOptions> {
  int64_t filters_;
  int64_t kernel_h_, kernel_w_;
  int64_t stride_h_ = 1, stride_w_ = 1;
  int64_t dilation_h_ = 1, dilation_w_ = 1;
  std::string padding_ = "valid";
  std::string activation_ = "linear";
  bool use_bias_ = true;
  InitializerPtr kernel_initializer_ = std::make_shared<initializers::GlorotUniform>();
  InitializerPtr bias_initializer_ = std::make_shared<initializers::Zeros>();

  Conv2DOptions(int64_t filters, int64_t kernel_size) : filters_(filters), kernel_h_(kernel_size), kernel_w_(kernel_size) {}
  Conv2DOptions(int64_t filters, int64_t kh, int64_t kw) : filters_(filters), kernel_h_(kh), kernel_w_(kw) {}
  Conv2DOptions& strides(int64_t s) { stride_h_ = stride_w_ = s; return *this; }
  Conv2DOptions& strides(int64_t h, int64_t w) { stride_h_ = h; stride_w_ = w; return *this; }
  Conv2DOptions& dilation_rate(int64_t d) { dilation_h_ = dilation_w_ = d; return *this; }
  Conv2DOptions& dilation_rate(int64_t h, int64_t w) { dilation_h_ = h; dilation_w_ = w; return *this; }
  Conv2DOptions& padding(std::string p) { padding_ = std::move(p); return *this; }
  Conv2DOptions& activation(std::string a) { activation_ = std::move(a); return *this; }
  Conv2DOptions& use_bias(bool b) { use_bias_ = b; return *this; }
  Conv2DOptions& kernel_initializer(const std::string& n) { kernel_initializer_ = initializers::get(n); return *this; }
  Conv2DOptions& kernel_initializer(InitializerPtr i) { kernel_initializer_ = std::move(i); return *this; }
  Conv2DOptions& bias_initializer(const std::string& n) { bias_initializer_ = initializers::get(n); return *this; }
  Conv2DOptions& bias_initializer(InitializerPtr i) { bias_initializer_ = std::move(i); return *this; }
};

class Conv2D : public LayerImpl<Conv2D> {
 public:
  explicit Conv2D(const Conv2DOptions& options);
  Conv2D(int64_t filters, int64_t kernel_size) : Conv2D(Conv2DOptions(filters, kernel_size)) {}

  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& x, bool training) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 private:
  Conv2DOptions opts_;
  ops::Activation activation_;
  Variable kernel_, bias_;
};

struct Pool2DOptions : LayerOptions<Pool2DOptions> {
  int64_t pool_h_, pool_w_;
  int64_t stride_h_ = 0, stride_w_ = 0;  // 0: the pool size (Keras's strides=None)
  std::string padding_ = "valid";
  explicit Pool2DOptions(int64_t pool_size = 2) : pool_h_(pool_size), pool_w_(pool_size) {}
  Pool2DOptions(int64_t h, int64_t w) : pool_h_(h), pool_w_(w) {}
  Pool2DOptions& strides(int64_t s) { stride_h_ = stride_w_ = s; return *this; }
  Pool2DOptions& strides(int64_t h, int64_t w) { stride_h_ = h; stride_w_ = w; return *this; }
  Pool2DOptions& padding(std::string p) { padding_ = std::move(p); return *this; }
};

// MaxPooling2D and AveragePooling2D share everything but the op.
class Pooling2D : public Layer {
 public:
  Pooling2D(std::string class_name, const Pool2DOptions& options);
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;

 protected:
  // Throws naming the layer when a "valid" pool window is larger than the input `s` (batch included).
  void check_pool_fits(const Shape& s) const;
  Pool2DOptions opts_;
};

class MaxPooling2D : public LayerImpl<MaxPooling2D, Pooling2D> {
 public:
  explicit MaxPooling2D(const Pool2DOptions& options = Pool2DOptions());
  explicit MaxPooling2D(int64_t pool_size) : MaxPooling2D(Pool2DOptions(pool_size)) {}
  Tensor call(const Tensor& x, bool training) override;
};

class AveragePooling2D : public LayerImpl<AveragePooling2D, Pooling2D> {
 public:
  explicit AveragePooling2D(const Pool2DOptions& options = Pool2DOptions());
  explicit AveragePooling2D(int64_t pool_size) : AveragePooling2D(Pool2DOptions(pool_size)) {}
  Tensor call(const Tensor& x, bool training) override;
};

struct GlobalPoolOptions : LayerOptions<GlobalPoolOptions> {
  bool keepdims_ = false;
  GlobalPoolOptions& keepdims(bool k) { keepdims_ = k; return *this; }
};

class GlobalAveragePooling2D : public LayerImpl<GlobalAveragePooling2D> {
 public:
  explicit GlobalAveragePooling2D(const GlobalPoolOptions& options = {});
  Tensor call(const Tensor& x, bool training) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;

 private:
  bool keepdims_;
};

// Output size of a window along one axis, as Keras/TF compute it (-1 stays unknown).
int64_t conv_output_length(int64_t in, int64_t kernel, const std::string& padding, int64_t stride,
                           int64_t dilation = 1);

}  // namespace keel::keras::layers
