// Embedding, LSTM and the merge layers Concatenate and Add.
//
//   layers::Embedding(10000, 64)                                  // input_dim, output_dim
//   layers::LSTM(32)   layers::LSTM(LSTMOptions(32).return_sequences(true))
//   auto merged = layers::Concatenate()({a, b});   auto sum = layers::Add()({a, b});
//   auto outs = layers::LSTM(LSTMOptions(8).return_state(true))({x});   // {output, h, c}
//   layers::LSTM(LSTMOptions(32).go_backwards(true))              // reads the sequence backwards
#pragma once

#include "keel/keras/layers/layer.h"

namespace keel::keras::layers {

struct EmbeddingOptions : LayerOptions<EmbeddingOptions> {
  int64_t input_dim_, output_dim_;
  std::optional<int64_t> input_length_;
  InitializerPtr embeddings_initializer_ = std::make_shared<initializers::RandomUniform>();
  EmbeddingOptions(int64_t input_dim, int64_t output_dim) : input_dim_(input_dim), output_dim_(output_dim) {}
  bool mask_zero_ = false;
  EmbeddingOptions& input_length(int64_t n) { input_length_ = n; return *this; }
  // Id 0 is padding: the layer's output carries a mask (ids != 0) that masking layers downstream
  // (LSTM, Bidirectional) skip, as Keras's mask_zero.
  EmbeddingOptions& mask_zero(bool b) { mask_zero_ = b; return *this; }
  EmbeddingOptions& embeddings_initializer(const std::string& n) { embeddings_initializer_ = initializers::get(n); return *this; }
  EmbeddingOptions& embeddings_initializer(InitializerPtr i) { embeddings_initializer_ = std::move(i); return *this; }
};

// Ids (i32/i64) of any shape -> ids.shape + [output_dim].
class Embedding : public LayerImpl<Embedding> {
 public:
  explicit Embedding(const EmbeddingOptions& options);
  Embedding(int64_t input_dim, int64_t output_dim) : Embedding(EmbeddingOptions(input_dim, output_dim)) {}
  void build(const Shape& input_shape) override;
  Tensor call(const Tensor& ids, bool training) override;
  bool autocast() const override { return false; }  // ids, not values
  Shape compute_output_shape(const Shape& input_shape) const override;
  Json get_config() const override;
  // ids != 0 with mask_zero, else none.
  std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  const Variable& embeddings() const { return embeddings_; }

 private:
  EmbeddingOptions opts_;
  Variable embeddings_;
};

struct LSTMOptions : LayerOptions<LSTMOptions> {
  int64_t units_;
  bool return_sequences_ = false, return_state_ = false, use_bias_ = true, unit_forget_bias_ = true;
  bool go_backwards_ = false;
  // Outputs at masked steps are zeros rather than the previous output (Bidirectional sets it with
  // return_sequences, as Keras does); not part of the config.
  bool zero_output_for_mask_ = false;
  InitializerPtr kernel_initializer_ = std::make_shared<initializers::GlorotUniform>();
  InitializerPtr recurrent_initializer_ = std::make_shared<initializers::Orthogonal>();
  InitializerPtr bias_initializer_ = std::make_shared<initializers::Zeros>();
  explicit LSTMOptions(int64_t units) : units_(units) {}
  LSTMOptions& return_sequences(bool b) { return_sequences_ = b; return *this; }
  LSTMOptions& return_state(bool b) { return_state_ = b; return *this; }
  // Reads the sequence last step first; return_sequences then gives the outputs in that (reversed) order.
  LSTMOptions& go_backwards(bool b) { go_backwards_ = b; return *this; }
  LSTMOptions& use_bias(bool b) { use_bias_ = b; return *this; }
  LSTMOptions& unit_forget_bias(bool b) { unit_forget_bias_ = b; return *this; }
  LSTMOptions& kernel_initializer(const std::string& n) { kernel_initializer_ = initializers::get(n); return *this; }
  LSTMOptions& recurrent_initializer(const std::string& n) { recurrent_initializer_ = initializers::get(n); return *this; }
  LSTMOptions& bias_initializer(const std::string& n) { bias_initializer_ = initializers::get(n); return *this; }
};

// Keras's LSTM (tanh, sigmoid, gates i, f, c, o). Its weights live on a child "cell" as in Keras 2
// (checkpoint keys .../cell/kernel, variable names "lstm/lstm_cell/kernel").
class LSTM : public LayerImpl<LSTM> {
 protected:
  // The input spec (rank 3, feature size) applies to x only; h0 and c0 must be [batch, units] (as
  // Keras's RNN state specs).
  void check_input_spec(const std::vector<Shape>& shapes) const override;

 public:
  bool supports_masking() const override { return true; }
  explicit LSTM(const LSTMOptions& options);
  explicit LSTM(int64_t units) : LSTM(LSTMOptions(units)) {}
  void build(const Shape& input_shape) override;
  // Inputs: x, or {x, h0, c0} (initial states [batch, units]); builds from x.
  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  Json get_config() const override;
  // With return_sequences, the input's mask; otherwise none.
  std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  const Variable& kernel() const { return kernel_; }
  const Variable& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable& bias() const { return bias_; }
  const LSTMOptions& options() const { return opts_; }
  void set_zero_output_for_mask(bool b) { opts_.zero_output_for_mask_ = b; }

 protected:
  // The mask of x (masks[0]) skips steps; the initial states' masks are ignored.
  std::vector<Tensor> call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks,
                                  bool training) override;

 private:
  std::vector<Tensor> run(const std::vector<Tensor>& xs, const Tensor& mask);
  LSTMOptions opts_;
  std::shared_ptr<Trackable> cell_;
  Variable kernel_, recurrent_kernel_, bias_;
};

struct ConcatenateOptions : LayerOptions<ConcatenateOptions> {
  int64_t axis_ = -1;
  ConcatenateOptions& axis(int64_t a) { axis_ = a; return *this; }
};

class Concatenate : public LayerImpl<Concatenate> {
 public:
  bool supports_masking() const override { return true; }
  explicit Concatenate(const ConcatenateOptions& options = {});
  explicit Concatenate(int64_t axis) : Concatenate(ConcatenateOptions().axis(axis)) {}
  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  Json get_config() const override;

 private:
  int64_t axis_;
};

struct AddOptions : LayerOptions<AddOptions> {};

class Add : public LayerImpl<Add> {
 public:
  bool supports_masking() const override { return true; }
  explicit Add(const AddOptions& options = {});
  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
};

}  // namespace keel::keras::layers
