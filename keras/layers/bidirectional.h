// Bidirectional: Keras's wrapper running an LSTM forwards and a copy of it backwards over the sequence.
//
//   layers::Bidirectional(layers::LSTM(32))                                  // [N, T, F] -> [N, 64]
//   layers::Bidirectional(layers::LSTM(LSTMOptions(16).return_sequences(true)), "sum")  // [N, T, 16]
//   layers::Bidirectional(layers::BidirectionalOptions(layers::LSTM(8)).merge_mode(std::nullopt))
//       // Keras's merge_mode=None: two outputs, forward then backward
//
// As in tf.keras 2.x, the wrapped layer only lends its config: the layer run forwards is recreated from
// it as "forward_<name>", the one run backwards as "backward_<name>" with go_backwards flipped (or is the
// given backward_layer, which must differ in go_backwards and agree in return_sequences/return_state).
// Their variables are named "<wrapper>/forward_lstm/lstm_cell/kernel", forward's before backward's;
// checkpoints reach them through the edges "forward_layer" and "backward_layer". With
// return_sequences the backward outputs are reversed back into input order before merging ("concat"
// on the last axis, "sum", "ave", "mul", or none). With return_state the outputs are the merged
// output(s), then the forward layer's h and c, then the backward layer's. A mask on x (Embedding's
// mask_zero) makes both layers skip the padded steps. Inputs: x, or
// {x, h0_forward, c0_forward, h0_backward, c0_backward}.
#pragma once

#include <optional>
#include <string>

#include "keel/keras/layers/embedding.h"
#include "keel/keras/layers/layer.h"

namespace keel::keras::layers {

struct BidirectionalOptions : LayerOptions<BidirectionalOptions> {
  std::shared_ptr<Layer> layer_, backward_layer_;
  std::optional<std::string> merge_mode_ = "concat";
  explicit BidirectionalOptions(LayerArg layer) : layer_(layer.get()) {}
  // "concat", "sum", "ave", "mul", or std::nullopt (Keras's None: the two outputs unmerged).
  BidirectionalOptions& merge_mode(std::optional<std::string> m) { merge_mode_ = std::move(m); return *this; }
  BidirectionalOptions& backward_layer(LayerArg l) { backward_layer_ = l.get(); return *this; }
};

class Bidirectional : public LayerImpl<Bidirectional> {
 public:
  explicit Bidirectional(const BidirectionalOptions& options);
  explicit Bidirectional(LayerArg layer, std::optional<std::string> merge_mode = "concat")
      : Bidirectional(BidirectionalOptions(std::move(layer)).merge_mode(std::move(merge_mode))) {}

  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  // Keras 2.x: {name, trainable, dtype, layer: {class_name, config} (the wrapped layer as given),
  // merge_mode[, backward_layer]}.
  Json get_config() const override;
  std::vector<std::shared_ptr<Layer>> sublayers() const override { return {forward_, backward_}; }
  bool supports_masking() const override { return true; }
  // With return_sequences the input's mask (twice without merging); otherwise none.
  std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;

  const std::shared_ptr<LSTM>& forward_layer() const { return forward_; }
  const std::shared_ptr<LSTM>& backward_layer() const { return backward_; }
  const std::optional<std::string>& merge_mode() const { return merge_mode_; }

 protected:
  void check_input_spec(const std::vector<Shape>& shapes) const override;
  // Both layers skip the masked steps; with return_sequences their outputs there are zeros (Keras).
  std::vector<Tensor> call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks,
                                  bool training) override;

 private:
  std::vector<Tensor> merge(const Tensor& y, const Tensor& y_rev) const;
  std::vector<Tensor> run(const std::vector<Tensor>& xs, const Tensor& mask, bool training);

  Json layer_config_;                   // the wrapped layer's {class_name, config}
  std::optional<Json> backward_config_;  // a given backward layer's, as Keras keeps it
  std::optional<std::string> merge_mode_;
  std::shared_ptr<LSTM> forward_, backward_;
};

}  // namespace keel::keras::layers
