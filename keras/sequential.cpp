#include "keel/keras/sequential.h"

#include "keel/graph/error.h"

namespace keel::keras {

namespace {
LayerArgs named(const std::string& name) {
  LayerArgs a;
  a.name = name;
  return a;
}
}  // namespace

Sequential::Sequential(const std::vector<LayerArg>& layers, const std::string& name)
    : LayerImpl<Sequential, Model>("Sequential", named(name)) {
  for (const auto& l : layers) add(l);
}

void Sequential::add(const KerasTensor& input) {
  KEEL_CHECK(input.defined() && input.layer()->class_name() == "InputLayer", describe(),
             ": add() takes a layer or a keras::Input()");
  add(LayerArg(input.layer()));
}

void Sequential::add(const LayerArg& arg) {
  const std::shared_ptr<Layer>& layer = arg.get();
  KEEL_CHECK(layer != nullptr, describe(), ": cannot add a null layer");
  if (auto input = std::dynamic_pointer_cast<layers::InputLayer>(layer)) {
    KEEL_CHECK(stack_.empty() && !input_layer_, describe(), ": an Input can only be the first entry");
    input_layer_ = input;
    return;
  }
  for (const auto& l : stack_) {
    KEEL_CHECK(l->name() != layer->name(), describe(), ": the layer name '", layer->name(),
               "' is used 2 times in the model; all layer names should be unique");
  }
  KEEL_CHECK(!input_layer_ || input_layer_->name() != layer->name(), describe(), ": the layer name '",
             layer->name(), "' is used 2 times in the model; all layer names should be unique");
  stack_.push_back(layer);
  if (stack_.size() == 1 && !input_layer_) {
    // Keras's get_input_shape_and_dtype: the first layer's input_shape, or the input of a first layer
    // that is itself a model with one input (a nested Sequential or functional model).
    const auto nested = std::dynamic_pointer_cast<Model>(layer);
    if (layer->batch_input_shape()) {
      input_layer_ = std::make_shared<layers::InputLayer>(*layer->batch_input_shape(), DType::f32,
                                                          layer->name() + "_input");
    } else if (nested && nested->is_graph_network() && nested->inputs().size() == 1) {
      const KerasTensor& in = nested->inputs()[0];
      input_layer_ = std::make_shared<layers::InputLayer>(in.shape(), in.dtype(), layer->name() + "_input");
    }
  }
  if (input_layer_) {
    if (!is_graph_network()) {
      rebuild_graph();
    } else {
      KerasTensor x = outputs_.at(0);
      const auto out = (*layer)(std::vector<KerasTensor>{x});
      KEEL_CHECK(out.size() == 1, describe(), ": layer '", layer->name(), "' has ", out.size(),
                 " outputs; a Sequential model needs layers with one output");
      init_graph(inputs_, out);
    }
    maybe_build(input_layer_->batch_input_shape().value());
  }
}

void Sequential::pop() {
  KEEL_CHECK(!stack_.empty(), describe(), ": there are no layers to pop");
  stack_.pop_back();
  if (stack_.empty()) {
    inputs_.clear();
    outputs_.clear();
    layers_.clear();
    return;
  }
  if (input_layer_) rebuild_graph();
}

void Sequential::rebuild_graph() {
  KerasTensor x = input_layer_->output();
  const KerasTensor input = x;
  for (const auto& l : stack_) {
    const auto out = (*l)(std::vector<KerasTensor>{x});
    KEEL_CHECK(out.size() == 1, describe(), ": layer '", l->name(), "' has ", out.size(),
               " outputs; a Sequential model needs layers with one output");
    x = out[0];
  }
  // The graph's layer list includes the InputLayer; layers() hides it.
  init_graph({input}, {x});
}

void Sequential::build(const Shape& input_shape) {
  KEEL_CHECK(!stack_.empty(), describe(), ": cannot build a model without layers");
  if (!input_layer_) {
    Shape s = input_shape;
    if (!s.empty()) s[0] = -1;
    input_layer_ = std::make_shared<layers::InputLayer>(s, DType::f32, stack_[0]->name() + "_input");
  }
  if (!is_graph_network()) rebuild_graph();
}

void Sequential::build_multi(const std::vector<Shape>& shapes) {
  KEEL_CHECK(shapes.size() == 1, describe(), ": expected 1 input, got ", shapes.size());
  build(shapes[0]);
}

std::vector<Tensor> Sequential::call_multi(const std::vector<Tensor>& xs, bool training) {
  KEEL_CHECK(xs.size() == 1, describe(), ": expected 1 input, got ", xs.size());
  Tensor x = conform_input(xs[0], input_layer_ ? input_layer_->dtype() : DType::f32);
  Tensor mask;  // Keras's _keras_mask of x (Embedding mask_zero=true starts one)
  for (const auto& l : stack_) {
    const std::vector<Tensor> in{x}, in_masks{mask};
    const std::vector<Tensor> out_masks = l->compute_mask(in, in_masks);
    x = mask.defined() ? l->call_with_masks(in, in_masks, training).at(0) : (*l)(x, training);
    mask = out_masks.empty() ? Tensor() : out_masks[0];
  }
  last_output_masks_ = {mask};
  return {x};
}

std::vector<Shape> Sequential::compute_output_shapes(const std::vector<Shape>& in) const {
  std::vector<Shape> s = in;
  for (const auto& l : stack_) s = l->compute_output_shapes(s);
  return s;
}

Json Sequential::get_config() const {
  Json c;
  c["name"] = name();
  Json ls = Json::array();
  auto entry = [](const Layer& l) {
    Json e;
    e["class_name"] = l.class_name();
    e["config"] = l.get_config();
    return e;
  };
  if (input_layer_) ls.push_back(entry(*input_layer_));
  for (const auto& l : stack_) ls.push_back(entry(*l));
  c["layers"] = ls;
  return c;
}

}  // namespace keel::keras
