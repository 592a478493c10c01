// Core layers: Dense, Dropout, Flatten, Reshape, Activation.
//
//   layers::Dense(128, "relu")                                         // units, activation
//   layers::Dense(DenseOptions(10).activation("softmax").use_bias(false).input_shape({784}))
//   layers::Dropout(0.5)          layers::Flatten()          layers::Reshape({7, 7, 16})
//   layers::Activation("relu")
#pragma once

#include <string>

#include "keel/keras/layers/layer.h"
#include "keel/ops/activation.h"

namespace keel::keras::layers {

struct DenseOptions : LayerOptions<DenseOptions> {
  int64_t units_;
  std::string activation_ = "linear";
  bool use_bias_ = true;
  InitializerPtr kernel_initializer_ = std::make_shared<initializers::GlorotUniform>();
  InitializerPtr bias_initializer_ = std::make_shared<initializers::Zeros>();

  explicit DenseOptions(int64_t units) : units_(units) {}
  DenseOptions& activation(std::string a) { activation_ = std::move(a); return *this; }
  DenseOptions& use_bias(bool b) { use_bias_ = b; return *this; }
  DenseOptions& kernel_initializer(const std::string& n) { kernel_initializer_ = initializers::get(n); return *this; }
  DenseOptions& kernel_initializer(InitializerPtr i) { kernel_initializer_ = std::move(i); return *this; }
  DenseOptions& bias_initializer(const std::string& n) { bias_initializer_ = initializers::get(n); return *this; }
  DenseOptions& bias_initializer(InitializerPtr i) { bias_initializer_ = std::move(i); return *this; }
};

class Dense : public LayerImpl<Dense> {
 public:
  bool supports_masking() const override { return true; }
  explicit Dense(const DenseOptions& options);
  explicit Dense(int64_t units, const std::string& activation = "linear")
      : Dense(DenseOptions(units).activation(activation)) {}

  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& x, bool training) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;

  int64_t units() const { return opts_.units_; }
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }  // undefined without use_bias

 private:
  DenseOptions opts_;
  ops::Activation activation_;
  Variable kernel_, bias_;
};

struct DropoutOptions : LayerOptions<DropoutOptions> {
  double rate_;
  std::optional<uint64_t> seed_;
  explicit DropoutOptions(double rate) : rate_(rate) {}
  DropoutOptions& seed(uint64_t s) { seed_ = s; return *this; }
};

// Drops with the layer's own generator (seeded from the layer seed sequence, or from seed()). The
// generator is the checkpoint child "_random_generator" (as Keras 2.13's Dropout), so that a resumed
// fit draws the same masks; it is not a weight: files without it (Keras .h5, TF checkpoints) still load.
class Dropout : public LayerImpl<Dropout> {
 public:
  bool supports_masking() const override { return true; }
  explicit Dropout(const DropoutOptions& options);
  explicit Dropout(double rate) : Dropout(DropoutOptions(rate)) {}
  Dropout(Dropout&& other);  // re-tracks "_random_generator" on this layer's own generator
  Tensor call(const Tensor& x, bool training) override;
  Json get_config() const override;
  double rate() const { return opts_.rate_; }

 private:
  void track_generator();
  DropoutOptions opts_;
};

struct FlattenOptions : LayerOptions<FlattenOptions> {};

class Flatten : public LayerImpl<Flatten> {
 public:
  explicit Flatten(const FlattenOptions& options = {});
  Tensor call(const Tensor& x, bool training) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;
};

struct ReshapeOptions : LayerOptions<ReshapeOptions> {
  Shape target_shape_;
  explicit ReshapeOptions(Shape target_shape) : target_shape_(std::move(target_shape)) {}
};

// target_shape excludes the batch dimension; one -1 is inferred.
class Reshape : public LayerImpl<Reshape> {
 public:
  explicit Reshape(const ReshapeOptions& options);
  explicit Reshape(Shape target_shape) : Reshape(ReshapeOptions(std::move(target_shape))) {}
  Tensor call(const Tensor& x, bool training) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;

 private:
  ReshapeOptions opts_;
};

struct ActivationOptions : LayerOptions<ActivationOptions> {
  std::string activation_;
  explicit ActivationOptions(std::string a) : activation_(std::move(a)) {}
};

class Activation : public LayerImpl<Activation> {
 public:
  bool supports_masking() const override { return true; }
  explicit Activation(const ActivationOptions& options);
  explicit Activation(const std::string& activation) : Activation(ActivationOptions(activation)) {}
  Tensor call(const Tensor& x, bool training) override;
  Json get_config() const override;

 private:
  ops::Activation activation_;
};

}  // namespace keel::keras::layers
