// Model: a Layer made of layers. Functional models are built from symbolic Inputs; Sequential
// (keras/sequential.h) stacks layers. Both list their layers, find them by name, print Keras's
// summary table and write Keras's model config JSON.
//
//   auto inputs = keras::Input({784});
//   auto x = layers::Dense(64, "relu")(inputs);
//   auto outputs = layers::Dense(10, "softmax")(x);
//   keras::Model model(inputs, outputs);                 // named "model", class "Functional"
//   model.summary();                                     // Keras 2.11's table
//   Tensor y = model(batch);                             // eager forward pass
//   std::string js = model.to_json();                    // {"class_name": "Functional", "config": {...}, ...}
//   auto again = keras::model_from_json(js);             // layers rebuilt through the layer registry
//
//   model.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                     .metrics({"accuracy"}));
//   auto history = model.fit(x, y, keras::FitOptions().epochs(5).validation_split(0.1));
//   model.save_weights("/tmp/w.h5");                     // or a checkpoint prefix: "/tmp/run/cp-0001.ckpt"
//   model.load_weights("/tmp/w.h5");                     // LoadWeightsOptions: by_name, skip_mismatch
//   model.save("/tmp/m.h5");                              // or a directory; keras::load_model(path) reads it
// Training (compile/fit/evaluate/predict/train_on_batch/test_on_batch) is keras/training.cpp, over
// keras::Trainer (keras/trainer.h).
//
// Several inputs and outputs (Keras 2.4's functional API): x and y are lists ordered as inputs() and
// outputs(), or keras::Arrays::by_name keyed by the input and output layer names (keras/arrays.h);
// compile takes one loss for every output, losses() per output or losses_by_output(), loss_weights and
// metrics_by_output (keras/training_options.h). predict() returns the one output of a model;
// predict_multi() returns one array per output, in outputs() order.
//
//   auto image = keras::Input(keras::InputOptions({784}).name("image"));
//   auto flipped = keras::Input(keras::InputOptions({784}).name("flipped"));
//   auto h = layers::Concatenate()(std::vector<KerasTensor>{image, flipped});
//   auto cls = layers::Dense(layers::DenseOptions(10).activation("softmax").name("class"))(h[0]);
//   auto bright = layers::Dense(layers::DenseOptions(1).name("brightness"))(h[0]);
//   keras::Model two(std::vector<KerasTensor>{image, flipped}, std::vector<KerasTensor>{cls, bright});
//   two.compile(keras::CompileOptions().optimizer("adam")
//                   .losses({"sparse_categorical_crossentropy", "mse"}).loss_weights({1.0, 0.5})
//                   .metrics_by_output({{"class", {"accuracy"}}}));
//   two.fit({x_image, x_flipped}, {labels, brightness}, keras::FitOptions().validation_split(0.1));
//   // logs: loss, class_loss, brightness_loss, class_accuracy (and val_ each); loss is
//   //       1.0 * class_loss + 0.5 * brightness_loss
//   std::vector<Tensor> preds = two.predict_multi({x_image, x_flipped});   // [probs, brightness]
//
// Checkpoints of a compiled model with several outputs track, under keras_api/metrics/N, the "loss"
// mean, each output's "<output>_loss" mean, then each output's metrics and weighted metrics, in Keras's
// model.metrics order; one output keeps "loss", its metrics, then its weighted metrics.
//
// Per-sample weights (keras/trainer.h): FitOptions::sample_weight / class_weight, validation_data's
// third array, EvaluateOptions::sample_weight, and CompileOptions::weighted_metrics for the metrics that
// take them:
//
//   model.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                     .metrics({"accuracy"}).weighted_metrics({"accuracy"}));
//   model.fit(x, y, keras::FitOptions().class_weight({{0, 1.0}, {1, 1.0}, {2, 5.0}}));
//   // logs: loss, accuracy, weighted_accuracy
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keel/keras/layers/input_layer.h"
#include "keel/keras/layers/layer.h"
#include "keel/keras/saving/load_options.h"
#include "keel/keras/trainer.h"

namespace keel::keras {

// The Keras version whose config format keel writes (TF 2.4's tf.keras).
inline constexpr const char* kKerasVersion = "2.4.0";

class Model : public LayerImpl<Model> {
 public:
  // A functional model from its symbolic inputs to its outputs.
  Model(const KerasTensor& inputs, const KerasTensor& outputs, const std::string& name = "");
  Model(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs,
        const std::string& name = "");

  // Keras's model.layers (a functional model lists its InputLayers; a Sequential does not).
  virtual std::vector<std::shared_ptr<Layer>> layers() const { return layers_; }
  // Throws `No such layer: 'foo'. Existing layers are: [...]` when absent.
  std::shared_ptr<Layer> get_layer(const std::string& name) const;
  std::shared_ptr<Layer> get_layer(int64_t index) const;
  const std::vector<KerasTensor>& inputs() const { return inputs_; }
  const std::vector<KerasTensor>& outputs() const { return outputs_; }
  // Keras's input_names / output_names: the input and output layers' names (an output layer that
  // gives several outputs is named "<layer>", then "<layer>_1", ...). Empty before a Sequential is built.
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;

  // Keras 2.11's summary table (65 columns, or 98 with "Connected to" for non-sequential graphs; rows start
  // with a space, long fields wrap onto further lines, layers are separated by a blank line).
  void summary(std::ostream& os) const;
  void summary() const;
  std::string summary_string(int64_t line_length = -1) const;

  // {"name", "layers": [{"class_name", "config", "name", "inbound_nodes"}...], "input_layers", "output_layers"}
  Json get_config() const override;
  // {"class_name", "config", "keras_version", "backend"} as Python's json.dumps writes it.
  std::string to_json() const;

  // Casts each input to its Input's dtype first (Keras's _conform_to_reference_input: float64 or uint8
  // data into a float32 model), so fit/evaluate/predict take any numeric x.
  std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training) override;
  bool autocast() const override { return false; }  // inputs conform to their Input dtypes instead
  void build_multi(const std::vector<Shape>& input_shapes) override;
  std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<std::shared_ptr<Layer>> sublayers() const override { return layers(); }
  // Keras's Model.weights: for each layer in layers() order, its weights (trainable then non-trainable
  // for a plain layer), then the model's own; trainable_weights() and non_trainable_weights() keep
  // Layer's order (all trainable first). get_weights/set_weights follow weights().
  std::vector<Variable> weights() const override;
  // Keras's checkpoint edges: "layer_with_weights-K" and "layer-N" for each layer, then tracked ones.
  std::vector<TrackableChild> trackable_children() const override;

  // Output shapes of `layer` in this model (its first node that belongs to the model).
  std::vector<Shape> layer_output_shapes(const Layer& layer) const;
  bool is_graph_network() const { return !outputs_.empty(); }

  // ---- training (keras/training.cpp). compile() tracks the optimizer as the checkpoint child
  // "optimizer" and the metrics as "keras_api/metrics/N" (loss first, in metrics() order), as Keras 2 does.
  void compile(const CompileOptions& options);
  // x and y are one array each (a Tensor converts), or, for several inputs or outputs, lists or maps by
  // name (see the header comment); a wrong number of arrays, unknown names or arrays with different
  // numbers of samples are errors that name the model's inputs or outputs.
  std::shared_ptr<History> fit(const Arrays& x, const Arrays& y, const FitOptions& options = FitOptions());
  Logs evaluate(const Arrays& x, const Arrays& y, const EvaluateOptions& options = EvaluateOptions());
  Tensor predict(const Arrays& x, const PredictOptions& options = PredictOptions());  // one output
  std::vector<Tensor> predict_multi(const Arrays& x, const PredictOptions& options = PredictOptions());
  // Keras's train_on_batch(x, y, sample_weight, class_weight) and test_on_batch(x, y, sample_weight).
  Logs train_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight = Arrays(),
                      const ClassWeight& class_weight = ClassWeight());
  Logs test_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight = Arrays());
  bool compiled() const { return trainer_ != nullptr; }
  std::shared_ptr<Optimizer> optimizer() const;             // null before compile()
  // Keras's model.metrics: "loss", the per-output loss means (several outputs), the compiled metrics.
  std::vector<std::shared_ptr<Metric>> metrics() const;
  std::vector<std::string> metrics_names() const;
  // Keras's model.stop_training (shared with callbacks during fit).
  bool stop_training() const { return trainer_ && trainer_->control().stop_training; }
  void set_stop_training(bool stop);
  // The options compile() was given (null before compile()); save() writes them as training_config.
  const CompileOptions* compile_options() const;

  // ---- saving (keras/saving/model_saving.cpp), over the free functions of keras/saving/weights.h and
  // keras/saving/save_model.h. A checkpoint (non-.h5) of a compiled model carries the optimizer's
  // iterations and slots; loading it restores them (into this model's optimizer, or when compile() runs).
  void save_weights(const std::string& path) const;
  LoadWeightsResult load_weights(const std::string& path, const LoadWeightsOptions& options = {});
  // .h5: Keras's full-model file (model_config, training_config, weights, optimizer_weights); anything
  // else: a SavedModel-style directory. The optimizer state goes with a compiled model.
  void save(const std::string& path) const;

  // The masks of the outputs of the last call, one per output (undefined: none), as Keras's
  // outputs' _keras_mask; fit and evaluate weight the losses and metrics with them.
  const std::vector<Tensor>& last_output_masks() const { return last_output_masks_; }

 protected:
  Model(std::string class_name, const LayerArgs& args);  // Sequential and subclasses
  // `x` cast to `dtype` when it is another numeric dtype (strings are left as they are).
  static Tensor conform_input(const Tensor& x, DType dtype);
  // (Re)builds the graph bookkeeping from inputs to outputs: layer order, node depths, name checks.
  void init_graph(const std::vector<KerasTensor>& inputs, const std::vector<KerasTensor>& outputs);
  // Layers that the checkpoint and summary list (layers() by default).
  struct GraphNode {
    std::shared_ptr<Layer> layer;
    int64_t node_index;
    int64_t depth;
  };
  const std::vector<GraphNode>& graph_nodes() const { return nodes_by_depth_; }
  // Index of a node among the nodes of its layer that belong to this model (Keras renumbers).
  int64_t model_node_index(const Layer* layer, int64_t node_index) const;
  std::vector<std::vector<KerasTensor>> node_inputs_in_model(const Layer& layer) const;

  std::vector<KerasTensor> inputs_, outputs_;
  std::vector<std::shared_ptr<Layer>> layers_;  // Keras order (depth, then traversal)
  std::vector<Tensor> last_output_masks_;

 private:
  std::vector<GraphNode> nodes_by_depth_;      // deepest first: the execution order
  std::shared_ptr<Trainer> trainer_;            // set by compile()
  Trainer& bound_trainer(const char* what);     // the trainer, pointed at this model
};

// Rebuilds a model from its config ({"class_name": "Sequential"|"Functional"|"Model", "config": ...})
// or from to_json() text, through the layer registry.
std::shared_ptr<Model> model_from_config(const Json& config);
std::shared_ptr<Model> model_from_json(const std::string& json);

// Python's json.dumps(obj) text for a config (", " and ": " separators, floats as Python's repr).
std::string python_json_dumps(const Json& j);

}  // namespace keel::keras
