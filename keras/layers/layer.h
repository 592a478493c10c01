// Layer: the Keras layer base. Weights are created lazily by build() on the first call, tracked by
// name for checkpoints, and listed in Keras's order.
//
//   layers::Dense dense(128, "relu");                    // named "dense" (then "dense_1", ...)
//   Tensor y = dense(x);                                 // builds kernel [784,128], bias [128] on first call
//   dense.trainable_weights();                           // {kernel, bias}
//   dense.get_config();                                  // {"name": "dense", "trainable": true, ...}
//
//   auto inputs = keras::Input({784});
//   KerasTensor h = layers::Dense(64, "relu")(inputs);   // symbolic: a temporary layer moves into the graph
//
// Writing a layer: derive from LayerImpl<MyLayer> (so that temporaries can move into models), override
// build(input_shape) to add_weight(...), call(x, training) for the forward pass, compute_output_shape
// for symbolic use and get_config() for saving; register it with register_layer<MyLayer>("MyLayer").
// Multi-input layers override build_multi/call_multi/compute_output_shapes instead.
//
// Shapes given to build() and compute_output_shape() include the batch dimension, -1 when unknown.
// Variables are named as Keras names them without the ":0" suffix ("dense/kernel"; inside a wrapper
// "bidirectional/forward_lstm/lstm_cell/kernel"); the checkpoint edge is the short name ("kernel").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/checkpoint/trackable.h"
#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"
#include "keel/keras/initializers.h"
#include "keel/keras/layers/keras_tensor.h"

namespace keel::keras {

// What a layer accepts, checked on every call (Keras's InputSpec).
struct InputSpec {
  int64_t ndim = -1;      // exact rank, -1 = any
  int64_t min_ndim = -1;  // minimum rank, -1 = any
  std::vector<std::pair<int64_t, int64_t>> axes;  // (axis, size): axis may be negative
};

// Arguments every layer takes (Keras's name=, trainable=, input_shape=, batch_size=).
struct LayerArgs {
  std::string name;  // empty: a unique name from the class name
  bool trainable = true;
  std::optional<Shape> input_shape;  // without the batch dimension
  std::optional<int64_t> batch_size;
};

// Mixin for option structs: LayerOptions<DenseOptions> gives .name(), .trainable(), .input_shape().
template <class D>
struct LayerOptions {
  LayerArgs base;
  D& name(std::string n) { base.name = std::move(n); return self(); }
  D& trainable(bool t) { base.trainable = t; return self(); }
  D& input_shape(Shape s) { base.input_shape = std::move(s); return self(); }
  D& batch_size(int64_t b) { base.batch_size = b; return self(); }

 private:
  D& self() { return static_cast<D&>(*this); }
};

// One call of a layer on symbolic inputs.
struct LayerNode {
  std::vector<KerasTensor> inputs;
  std::vector<Shape> output_shapes;
  std::vector<DType> output_dtypes;
};

class Layer : public Trackable {
 public:
  Layer(std::string class_name, const LayerArgs& args);
  Layer(Layer&& other);  // moves configuration, weights and tracked children (a temporary into a model)
  ~Layer() override;

  const std::string& name() const { return name_; }
  const std::string& class_name() const { return class_name_; }
  // The prefix of this layer's variable names: the name, or "<scope>/<name>" once a wrapper has set a
  // scope (Bidirectional's layers are "bidirectional/forward_lstm", as Keras's name scopes make them).
  std::string weight_prefix() const { return weight_scope_.empty() ? name_ : weight_scope_ + "/" + name_; }
  // For wrappers, before the layer is built (its variables are named when they are created).
  void set_weight_scope(std::string scope);
  bool trainable() const { return trainable_; }
  virtual void set_trainable(bool t) { trainable_ = t; }
  bool built() const { return built_; }
  // [batch, ...input_shape] when input_shape= was given (Keras's batch_input_shape), with -1 for None.
  const std::optional<Shape>& batch_input_shape() const { return batch_input_shape_; }
  const InputSpec& input_spec() const { return input_spec_; }
  // This layer's seed (from the layer seed sequence) and its own generator (dropout masks).
  uint64_t seed() const { return seed_; }
  Generator& generator() { return generator_; }

  // ---- calling
  Tensor operator()(const Tensor& x, bool training = false);
  std::vector<Tensor> operator()(const std::vector<Tensor>& xs, bool training = false);
  // Symbolic calls record a node. A named layer must be owned by a std::shared_ptr; a temporary is
  // moved into one.
  KerasTensor operator()(const KerasTensor& x) &;
  KerasTensor operator()(const KerasTensor& x) &&;
  std::vector<KerasTensor> operator()(const std::vector<KerasTensor>& xs) &;
  std::vector<KerasTensor> operator()(const std::vector<KerasTensor>& xs) &&;

  // ---- masks (Keras's supports_masking, compute_mask and call(..., mask=))
  // Calls the layer as operator() does, handing call_masked the masks of its inputs (undefined: none);
  // the model engines call layers this way. A mask reaching a layer that does not support masking is
  // an error naming the layer (Keras's TypeError).
  std::vector<Tensor> call_with_masks(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks, bool training);
  // The masks of the outputs (an empty list or undefined entries: none). Default: none without input
  // masks; with one, the first input's mask for each output when supports_masking(), else an error.
  virtual std::vector<Tensor> compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const;
  // Whether an input mask passes through this layer (Dense, Dropout, Activation, normalization, RNNs).
  virtual bool supports_masking() const { return false; }

  // Builds with these input shapes (batch included, -1 for unknown) unless built already.
  void maybe_build(const std::vector<Shape>& input_shapes);
  void maybe_build(const Shape& input_shape) { maybe_build(std::vector<Shape>{input_shape}); }
  // The shapes the layer was built with.
  const std::vector<Shape>& build_input_shapes() const { return build_shapes_; }

  // ---- overridable
  virtual void build(const Shape& input_shape);
  virtual void build_multi(const std::vector<Shape>& input_shapes);
  virtual Tensor call(const Tensor& x, bool training);
  virtual std::vector<Tensor> call_multi(const std::vector<Tensor>& xs, bool training);
  virtual Shape compute_output_shape(const Shape& input_shape) const;  // default: identity
  virtual std::vector<Shape> compute_output_shapes(const std::vector<Shape>& input_shapes) const;
  virtual DType compute_output_dtype(const std::vector<DType>& input_dtypes) const;  // default f32
  // Keras's autocast: operator() casts a floating input of another dtype (f64) to float32, the dtype
  // keel's layers compute in, before call(); integer inputs pass unchanged. False for layers whose
  // input is not a value (Embedding's ids) and for models (they conform inputs to their Input dtypes).
  virtual bool autocast() const { return true; }
  // Keras's config: {"name", "trainable", "dtype", ["batch_input_shape"], ...layer arguments}.
  virtual Json get_config() const;
  // Sublayers whose weights this layer owns (models, wrappers).
  virtual std::vector<std::shared_ptr<Layer>> sublayers() const { return {}; }
  // Moves a temporary into a shared_ptr (LayerImpl provides it).
  virtual std::shared_ptr<Layer> into_shared() &&;

  // ---- weights
  // Creates a variable `<layer name>/<name>` initialized by `initializer`, tracked under `name`.
  Variable add_weight(const std::string& name, const Shape& shape, const InitializerPtr& initializer,
                      bool trainable = true);
  Variable add_weight(const std::string& name, const Shape& shape, const std::string& initializer,
                      bool trainable = true) {
    return add_weight(name, shape, initializers::get(initializer), trainable);
  }
  // Own and sublayers' weights, deduplicated. trainable_weights is empty when the layer is frozen.
  std::vector<Variable> trainable_weights() const;
  std::vector<Variable> non_trainable_weights() const;
  // trainable_weights + non_trainable_weights (a Model overrides: per layer, as Keras's Model.weights).
  virtual std::vector<Variable> weights() const;
  // trainable_weights + non_trainable_weights for any layer, models included (Keras's _legacy_weights,
  // the order of a layer's weights in Keras's HDF5 files).
  std::vector<Variable> legacy_weights() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& values);
  // Total elements of all weights; throws when the layer is not built.
  int64_t count_params() const;

  // Symbolic calls recorded on this layer.
  const std::vector<LayerNode>& inbound_nodes() const { return nodes_; }

 protected:
  // Sets the batch input shape this layer was declared with ([batch, dims...], -1 for None); a dimension
  // below -1 is an error naming the layer and the shape.
  void set_batch_input_shape(const Shape& s);
  // A variable `full_name` drawn from this layer's generator for weight number k (not tracked).
  Variable make_weight(const std::string& full_name, const Shape& shape, const InitializerPtr& init,
                       bool trainable);
  // Adds a variable to this layer's weight list (tracking is the caller's business).
  void register_weight(const Variable& v);
  // The call for inputs of which at least one has a mask; by default the masks do not change it.
  virtual std::vector<Tensor> call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks,
                                          bool training);
  // Throws naming the layer when `masks` holds a mask and the layer does not support masking.
  void check_masks_supported(const std::vector<Tensor>& masks) const;
  // Checks the input shapes against input_spec_ (every input; a layer whose inputs differ in kind, such
  // as an RNN's initial states, overrides it).
  virtual void check_input_spec(const std::vector<Shape>& shapes) const;
  // Records a node (InputLayer's, which has no inputs); returns its index.
  int64_t add_node(LayerNode node);
  // "Dense 'dense_1'", used at the start of every error message about this layer.
  std::string describe() const;

  InputSpec input_spec_;
  std::optional<Shape> batch_input_shape_;

 private:
  std::vector<KerasTensor> call_symbolic(std::shared_ptr<Layer> self, const std::vector<KerasTensor>& xs);
  std::shared_ptr<Layer> shared_self(const char* what);
  void collect(std::vector<Variable>& out, bool want_trainable, bool parent_trainable) const;

  std::string class_name_;
  std::string name_;
  std::string weight_scope_;
  bool trainable_ = true;
  bool built_ = false;
  bool in_default_call_ = false;
  uint64_t seed_ = 0;
  Generator generator_;
  std::vector<Variable> weights_;
  std::vector<Shape> build_shapes_;
  std::vector<LayerNode> nodes_;
};

// CRTP helper giving a layer class its move-into-shared_ptr.
template <class Derived, class Base = Layer>
class LayerImpl : public Base {
 public:
  using Base::Base;
  std::shared_ptr<Layer> into_shared() && override {
    return std::make_shared<Derived>(std::move(static_cast<Derived&>(*this)));
  }
};

// A layer given to a container: a shared_ptr, or a temporary moved into one.
class LayerArg {
 public:
  template <class L, class = std::enable_if_t<std::is_base_of_v<Layer, L>>>
  LayerArg(std::shared_ptr<L> p) : ptr_(std::move(p)) {}
  template <class L, class = std::enable_if_t<std::is_base_of_v<Layer, std::decay_t<L>> &&
                                              !std::is_lvalue_reference_v<L>>>
  LayerArg(L&& layer) : ptr_(std::make_shared<std::decay_t<L>>(std::move(layer))) {}
  // keras::Input(...) as the first entry of a Sequential: its InputLayer.
  LayerArg(const KerasTensor& input) : ptr_(input.layer()) {}
  const std::shared_ptr<Layer>& get() const { return ptr_; }

 private:
  std::shared_ptr<Layer> ptr_;
};

}  // namespace keel::keras
