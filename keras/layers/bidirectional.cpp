#include "keel/keras/layers/bidirectional.h"

#include "keel/graph/error.h"
#include "keel/keras/layers/registry.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/shape_ops.h"

namespace keel::keras::layers {

namespace {

bool valid_merge_mode(const std::optional<std::string>& m) {
  return !m || *m == "concat" || *m == "sum" || *m == "ave" || *m == "mul";
}

// The layer `spec` ({class_name, config}) describes, renamed `name` (and with go_backwards flipped).
Json renamed(Json spec, const std::string& name, bool flip_go_backwards) {
  spec["config"]["name"] = name;
  if (flip_go_backwards) spec["config"]["go_backwards"] = !spec["config"].value("go_backwards", false);
  return spec;
}

}  // namespace

Bidirectional::Bidirectional(const BidirectionalOptions& o)
    : LayerImpl<Bidirectional>("Bidirectional", o.base), merge_mode_(o.merge_mode_) {
  KEEL_CHECK(o.layer_ != nullptr, describe(), ": no layer to wrap");
  KEEL_CHECK(valid_merge_mode(merge_mode_), describe(), ": invalid merge_mode '", merge_mode_.value_or(""),
             "'; expected one of concat, sum, ave, mul, or none");
  auto rnn = [&](const std::shared_ptr<Layer>& l, const char* what) {
    auto p = std::dynamic_pointer_cast<LSTM>(l);
    KEEL_CHECK(p != nullptr, describe(), ": ", what, " must be an RNN layer (LSTM), got ", l->class_name(), " '",
               l->name(), "'");
    return p;
  };
  rnn(o.layer_, "the wrapped layer");
  layer_config_ = Json{{"class_name", o.layer_->class_name()}, {"config", o.layer_->get_config()}};
  // Recreated from the config, as Keras does, so that nothing of the given layer's state carries over.
  forward_ = rnn(layer_from_config(renamed(layer_config_, "forward_" + o.layer_->name(), false)), "the layer");
  if (o.backward_layer_) {
    rnn(o.backward_layer_, "backward_layer");
    backward_config_ = Json{{"class_name", o.backward_layer_->class_name()}, {"config", o.backward_layer_->get_config()}};
    backward_ = rnn(layer_from_config(renamed(*backward_config_, "backward_" + o.backward_layer_->name(), false)),
                    "backward_layer");
  } else {
    backward_ = rnn(layer_from_config(renamed(layer_config_, "backward_" + o.layer_->name(), true)), "the layer");
  }
  const LSTMOptions &f = forward_->options(), &b = backward_->options();
  KEEL_CHECK(f.go_backwards_ != b.go_backwards_, describe(), ": the forward layer '", forward_->name(),
             "' and the backward layer '", backward_->name(), "' must differ in go_backwards; both have ",
             f.go_backwards_ ? "true" : "false");
  auto same = [&](const char* attr, bool fv, bool bv) {
    KEEL_CHECK(fv == bv, describe(), ": the forward layer '", forward_->name(), "' has ", attr, "=",
               fv ? "true" : "false", " but the backward layer '", backward_->name(), "' has ", attr, "=",
               bv ? "true" : "false");
  };
  same("return_sequences", f.return_sequences_, b.return_sequences_);
  same("return_state", f.return_state_, b.return_state_);
  // Keras forces zero outputs at masked steps when the sequences are returned.
  forward_->set_zero_output_for_mask(f.return_sequences_);
  backward_->set_zero_output_for_mask(b.return_sequences_);
  forward_->set_weight_scope(weight_prefix());
  backward_->set_weight_scope(weight_prefix());
  track("forward_layer", forward_);
  track("backward_layer", backward_);
  input_spec_.ndim = 3;
}

void Bidirectional::check_input_spec(const std::vector<Shape>& shapes) const {
  if (!shapes.empty()) Layer::check_input_spec({shapes[0]});  // the states are the sublayers' to check
}

namespace {
// Splits {x[, h0f, c0f, h0b, c0b]} into the forward and backward layers' inputs.
template <class T>
std::pair<std::vector<T>, std::vector<T>> split_inputs(const std::vector<T>& xs, const std::string& who) {
  KEEL_CHECK(xs.size() == 1 || xs.size() == 5, who,
             ": expected the input, or the input and 4 initial states (h and c of the forward layer, then of "
             "the backward layer), got ", xs.size(), " inputs");
  if (xs.size() == 1) return {xs, xs};
  return {{xs[0], xs[1], xs[2]}, {xs[0], xs[3], xs[4]}};
}
}  // namespace

void Bidirectional::build_multi(const std::vector<Shape>& shapes) {
  auto [f, b] = split_inputs(shapes, describe());
  forward_->maybe_build(f);
  backward_->maybe_build(b);
}

std::vector<Tensor> Bidirectional::merge(const Tensor& y, const Tensor& y_rev) const {
  if (!merge_mode_) return {y, y_rev};
  if (*merge_mode_ == "concat") return {ops::concat({y, y_rev}, -1)};
  if (*merge_mode_ == "sum") return {ops::add(y, y_rev)};
  if (*merge_mode_ == "ave") return {ops::div(ops::add(y, y_rev), 2.0)};
  return {ops::mul(y, y_rev)};
}

std::vector<Tensor> Bidirectional::call_multi(const std::vector<Tensor>& xs, bool training) {
  return run(xs, Tensor(), training);
}

std::vector<Tensor> Bidirectional::call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks,
                                               bool training) {
  return run(xs, masks.empty() ? Tensor() : masks[0], training);
}

std::vector<Tensor> Bidirectional::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (masks.empty() || !masks[0].defined() || !forward_->options().return_sequences_) return {};
  if (!merge_mode_) return {masks[0], masks[0]};
  return {masks[0]};
}

std::vector<Tensor> Bidirectional::run(const std::vector<Tensor>& xs, const Tensor& mask, bool training) {
  auto [f, b] = split_inputs(xs, describe());
  std::vector<Tensor> masks(f.size());
  masks[0] = mask;
  const std::vector<Tensor> y = forward_->call_with_masks(f, masks, training);
  const std::vector<Tensor> y_rev = backward_->call_with_masks(b, masks, training);
  // The backward layer's sequence comes out last step first: put it back in input order.
  const Tensor back = forward_->options().return_sequences_ ? ops::reverse(y_rev[0], 1) : y_rev[0];
  std::vector<Tensor> out = merge(y[0], back);
  out.insert(out.end(), y.begin() + 1, y.end());
  out.insert(out.end(), y_rev.begin() + 1, y_rev.end());
  return out;
}

std::vector<Shape> Bidirectional::compute_output_shapes(const std::vector<Shape>& in) const {
  auto [f, b] = split_inputs(in, describe());
  const std::vector<Shape> fs = forward_->compute_output_shapes(f);
  std::vector<Shape> out;
  Shape y = fs[0];
  if (!merge_mode_) {
    out = {y, y};
  } else {
    if (*merge_mode_ == "concat" && y.back() >= 0) y.back() *= 2;
    out = {y};
  }
  for (int copy = 0; copy < 2; ++copy) out.insert(out.end(), fs.begin() + 1, fs.end());
  return out;
}

Json Bidirectional::get_config() const {
  Json c = Layer::get_config();
  c["layer"] = layer_config_;
  c["merge_mode"] = merge_mode_ ? Json(*merge_mode_) : Json(nullptr);
  if (backward_config_) c["backward_layer"] = *backward_config_;
  return c;
}

}  // namespace keel::keras::layers
