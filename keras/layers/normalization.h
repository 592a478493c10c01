// Normalization layers over the last axis (channels-last).
//
//   layers::BatchNormalization()             // gamma, beta trainable; moving_mean, moving_variance not
//   layers::BatchNormalization(BatchNormalizationOptions().momentum(0.9).epsilon(1e-5))
//   layers::LayerNormalization()
#pragma once

#include "keel/keras/layers/layer.h"

namespace keel::keras::layers {

struct BatchNormalizationOptions : LayerOptions<BatchNormalizationOptions> {
  double momentum_ = 0.99, epsilon_ = 1e-3;
  int64_t axis_ = -1;  // only the last axis is supported: -1 or rank - 1, checked when built
  bool center_ = true, scale_ = true;
  InitializerPtr beta_initializer_ = std::make_shared<initializers::Zeros>();
  InitializerPtr gamma_initializer_ = std::make_shared<initializers::Ones>();
  InitializerPtr moving_mean_initializer_ = std::make_shared<initializers::Zeros>();
  InitializerPtr moving_variance_initializer_ = std::make_shared<initializers::Ones>();
  BatchNormalizationOptions& axis(int64_t a) { axis_ = a; return *this; }
  BatchNormalizationOptions& momentum(double m) { momentum_ = m; return *this; }
  BatchNormalizationOptions& epsilon(double e) { epsilon_ = e; return *this; }
  BatchNormalizationOptions& center(bool c) { center_ = c; return *this; }
  BatchNormalizationOptions& scale(bool s) { scale_ = s; return *this; }
};

// Training uses the batch statistics and updates the moving ones; a frozen layer (trainable false)
// runs in inference mode, as Keras 2 does.
class BatchNormalization : public LayerImpl<BatchNormalization> {
 public:
  bool supports_masking() const override { return true; }
  explicit BatchNormalization(const BatchNormalizationOptions& options = {});
  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& x, bool training) override;
  Json get_config() const override;
  const Variable& gamma() const { return gamma_; }
  const Variable& beta() const { return beta_; }
  const Variable& moving_mean() const { return moving_mean_; }
  const Variable& moving_variance() const { return moving_variance_; }

 private:
  BatchNormalizationOptions opts_;
  int64_t axis_ = -1;  // positive after build
  Variable gamma_, beta_, moving_mean_, moving_variance_;
};

struct LayerNormalizationOptions : LayerOptions<LayerNormalizationOptions> {
  double epsilon_ = 1e-3;
  int64_t axis_ = -1;  // only the last axis is supported: -1 or rank - 1, checked when built
  bool center_ = true, scale_ = true;
  InitializerPtr beta_initializer_ = std::make_shared<initializers::Zeros>();
  InitializerPtr gamma_initializer_ = std::make_shared<initializers::Ones>();
  LayerNormalizationOptions& axis(int64_t a) { axis_ = a; return *this; }
  LayerNormalizationOptions& epsilon(double e) { epsilon_ = e; return *this; }
  LayerNormalizationOptions& center(bool c) { center_ = c; return *this; }
  LayerNormalizationOptions& scale(bool s) { scale_ = s; return *this; }
};

class LayerNormalization : public LayerImpl<LayerNormalization> {
 public:
  bool supports_masking() const override { return true; }
  explicit LayerNormalization(const LayerNormalizationOptions& options = {});
  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& x, bool training) override;
  Json get_config() const override;
  const Variable& gamma() const { return gamma_; }
  const Variable& beta() const { return beta_; }

 private:
  LayerNormalizationOptions opts_;
  int64_t axis_ = -1;
  Variable gamma_, beta_;
};

}  // namespace keel::keras::layers
