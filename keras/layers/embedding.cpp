#include "keel/keras/layers/embedding.h"

#include "keel/graph/error.h"
#include "keel/keras/layers/masking.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/embedding.h"
#include "keel/ops/lstm.h"
#include "keel/ops/shape_ops.h"

namespace keel::keras::layers {

namespace {
const char* const kNullKeys[] = {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                                 "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                                 "bias_constraint"};
}  // namespace

// ---- Embedding

namespace {
LayerArgs embedding_args(const EmbeddingOptions& o) {
  LayerArgs a = o.base;
  if (!a.input_shape && o.input_length_) a.input_shape = Shape{*o.input_length_};
  return a;
}
}  // namespace

Embedding::Embedding(const EmbeddingOptions& o) : LayerImpl<Embedding>("Embedding", embedding_args(o)), opts_(o) {
  KEEL_CHECK(o.input_dim_ > 0 && o.output_dim_ > 0, describe(), ": input_dim and output_dim must be positive, got ",
             o.input_dim_, " and ", o.output_dim_);
}

void Embedding::build(const Shape&) {
  embeddings_ = add_weight("embeddings", {opts_.input_dim_, opts_.output_dim_}, opts_.embeddings_initializer_);
}

Tensor Embedding::call(const Tensor& ids, bool) {
  const Tensor idx = is_integral(ids.dtype()) ? ids : ops::cast(ids, DType::i64);
  return ops::embedding(embeddings_.value(), idx);
}

std::vector<Tensor> Embedding::compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>&) const {
  if (!opts_.mask_zero_ || inputs.empty()) return {};
  const Tensor& ids = inputs[0];
  return {detail::nonzero_mask(is_integral(ids.dtype()) ? ids : ops::cast(ids, DType::i64))};
}

Shape Embedding::compute_output_shape(const Shape& s) const {
  Shape out = s;
  out.push_back(opts_.output_dim_);
  return out;
}

Json Embedding::get_config() const {
  Json c = Layer::get_config();
  c["input_dim"] = opts_.input_dim_;
  c["output_dim"] = opts_.output_dim_;
  c["embeddings_initializer"] = initializers::serialize(*opts_.embeddings_initializer_);
  c["embeddings_regularizer"] = nullptr;
  c["activity_regularizer"] = nullptr;
  c["embeddings_constraint"] = nullptr;
  c["mask_zero"] = opts_.mask_zero_;
  c["input_length"] = opts_.input_length_ ? Json(*opts_.input_length_) : Json(nullptr);
  return c;
}

// ---- LSTM

namespace {
class LSTMCellObject : public Trackable {};
}  // namespace

LSTM::LSTM(const LSTMOptions& o)
    : LayerImpl<LSTM>("LSTM", o.base), opts_(o), cell_(std::make_shared<LSTMCellObject>()) {
  KEEL_CHECK(o.units_ > 0, describe(), ": units must be positive, got ", o.units_);
  input_spec_.ndim = 3;
  track("cell", cell_);
}

void LSTM::build(const Shape& s) {
  const int64_t in = s.back(), u = opts_.units_;
  KEEL_CHECK(in > 0, describe(), ": the feature dimension of the input must be known, got ", shape_str_none(s));
  const std::string prefix = weight_prefix() + "/lstm_cell/";
  kernel_ = make_weight(prefix + "kernel", {in, 4 * u}, opts_.kernel_initializer_, true);
  register_weight(kernel_);
  cell_->track_variable("kernel", kernel_);
  recurrent_kernel_ = make_weight(prefix + "recurrent_kernel", {u, 4 * u}, opts_.recurrent_initializer_, true);
  register_weight(recurrent_kernel_);
  cell_->track_variable("recurrent_kernel", recurrent_kernel_);
  if (opts_.use_bias_) {
    bias_ = make_weight(prefix + "bias", {4 * u}, opts_.bias_initializer_, true);
    if (opts_.unit_forget_bias_) {
      // Keras: bias_initializer for i, ones for f, bias_initializer for c and o.
      Tensor b = bias_.value().detach().clone();
      float* p = b.data<float>();
      for (int64_t i = u; i < 2 * u; ++i) p[i] = 1.0f;
      bias_.assign(b);
    }
    register_weight(bias_);
    cell_->track_variable("bias", bias_);
  }
  input_spec_.axes = {{-1, in}};
}

void LSTM::build_multi(const std::vector<Shape>& shapes) {
  KEEL_CHECK(shapes.size() == 1 || shapes.size() == 3, describe(), ": expected 1 input (or input, h0, c0), got ",
             shapes.size());
  build(shapes[0]);
}

void LSTM::check_input_spec(const std::vector<Shape>& shapes) const {
  if (shapes.empty()) return;
  Layer::check_input_spec({shapes[0]});
  const Shape& x = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    const bool ok = s.size() == 2 && (s[1] < 0 || s[1] == opts_.units_) &&
                    (s[0] < 0 || x.empty() || x[0] < 0 || s[0] == x[0]);
    KEEL_CHECK(ok, describe(), ": initial state ", i == 1 ? "h0" : "c0", " must be [batch, units] = [",
               x.empty() || x[0] < 0 ? std::string("None") : std::to_string(x[0]), ",", opts_.units_,
               "] for input ", shape_str_none(x), ", got ", shape_str_none(s));
  }
}

std::vector<Tensor> LSTM::call_multi(const std::vector<Tensor>& xs, bool) { return run(xs, Tensor()); }

std::vector<Tensor> LSTM::call_masked(const std::vector<Tensor>& xs, const std::vector<Tensor>& masks, bool) {
  return run(xs, masks.empty() ? Tensor() : masks[0]);
}

std::vector<Tensor> LSTM::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  if (masks.empty() || !masks[0].defined() || !opts_.return_sequences_) return {};
  return {masks[0]};  // the states (return_state) have none
}

std::vector<Tensor> LSTM::run(const std::vector<Tensor>& xs, const Tensor& mask) {
  KEEL_CHECK(xs.size() == 1 || xs.size() == 3, describe(), ": expected 1 input (or input, h0, c0), got ",
             xs.size());
  const Tensor h0 = xs.size() == 3 ? xs[1] : Tensor();
  const Tensor c0 = xs.size() == 3 ? xs[2] : Tensor();
  const Tensor x = opts_.go_backwards_ ? ops::reverse(xs[0], 1) : xs[0];
  if (mask.defined()) {
    const Shape want{xs[0].size(0), xs[0].size(1)};
    KEEL_CHECK(mask.shape() == want && mask.dtype() == DType::boolean, describe(), ": the mask ",
               shape_str(mask.shape()), " ", dtype_name(mask.dtype()), " does not match input ",
               shape_str(xs[0].shape()), " (expected ", shape_str(want), " bool)");
  }
  const Tensor m = mask.defined() && opts_.go_backwards_ ? ops::reverse(mask, 1) : mask;
  auto r = ops::lstm(x, kernel_.value(), recurrent_kernel_.value(), opts_.use_bias_ ? bias_.value() : Tensor(),
                     h0, c0, opts_.return_sequences_, m, opts_.zero_output_for_mask_);
  if (opts_.return_state_) return {r.output, r.h, r.c};
  return {r.output};
}

std::vector<Shape> LSTM::compute_output_shapes(const std::vector<Shape>& in) const {
  KEEL_CHECK(!in.empty(), describe(), ": expected an input");
  const Shape& s = in[0];
  KEEL_CHECK(s.size() == 3, describe(), ": expected input of rank 3, got ", shape_str_none(s));
  const Shape out = opts_.return_sequences_ ? Shape{s[0], s[1], opts_.units_} : Shape{s[0], opts_.units_};
  if (opts_.return_state_) return {out, {s[0], opts_.units_}, {s[0], opts_.units_}};
  return {out};
}

Json LSTM::get_config() const {
  Json c = Layer::get_config();
  c["return_sequences"] = opts_.return_sequences_;
  c["return_state"] = opts_.return_state_;
  c["go_backwards"] = opts_.go_backwards_;
  c["stateful"] = false;
  c["unroll"] = false;
  c["time_major"] = false;
  c["units"] = opts_.units_;
  c["activation"] = "tanh";
  c["recurrent_activation"] = "sigmoid";
  c["use_bias"] = opts_.use_bias_;
  c["kernel_initializer"] = initializers::serialize(*opts_.kernel_initializer_);
  c["recurrent_initializer"] = initializers::serialize(*opts_.recurrent_initializer_);
  c["bias_initializer"] = initializers::serialize(*opts_.bias_initializer_);
  c["unit_forget_bias"] = opts_.unit_forget_bias_;
  for (const char* k : kNullKeys) c[k] = nullptr;
  c["dropout"] = 0.0;
  c["recurrent_dropout"] = 0.0;
  c["implementation"] = 2;
  return c;
}

// ---- merge layers

Concatenate::Concatenate(const ConcatenateOptions& o) : LayerImpl<Concatenate>("Concatenate", o.base), axis_(o.axis_) {}

void Concatenate::build_multi(const std::vector<Shape>& in) { compute_output_shapes(in); }

std::vector<Shape> Concatenate::compute_output_shapes(const std::vector<Shape>& in) const {
  KEEL_CHECK(in.size() >= 2, describe(), ": expected at least 2 inputs, got ", in.size());
  const int64_t rank = static_cast<int64_t>(in[0].size());
  const int64_t axis = normalize_axis(axis_, rank, "Concatenate");
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    KEEL_CHECK(static_cast<int64_t>(in[i].size()) == rank, describe(), ": inputs ", shape_str_none(in[0]),
               " and ", shape_str_none(in[i]), " differ in rank");
    for (int64_t a = 0; a < rank; ++a) {
      if (a == axis) {
        out[a] = (out[a] < 0 || in[i][a] < 0) ? -1 : out[a] + in[i][a];
      } else if (a > 0) {
        KEEL_CHECK(in[0][a] < 0 || in[i][a] < 0 || in[0][a] == in[i][a], describe(), ": inputs ",
                   shape_str_none(in[0]), " and ", shape_str_none(in[i]), " differ outside axis ", axis_);
      }
    }
  }
  return {out};
}

std::vector<Tensor> Concatenate::call_multi(const std::vector<Tensor>& xs, bool) {
  KEEL_CHECK(xs.size() >= 2, describe(), ": expected at least 2 inputs, got ", xs.size());
  return {ops::concat(xs, axis_)};
}

std::vector<Tensor> Concatenate::compute_mask(const std::vector<Tensor>& inputs,
                                              const std::vector<Tensor>& masks) const {
  bool any = false;
  for (const Tensor& m : masks) any = any || m.defined();
  if (!any) return {};
  const int64_t rank = inputs.at(0).dim();
  const int64_t axis = normalize_axis(axis_, rank, "Concatenate");
  if (axis == rank - 1) {  // features side by side: a step is valid where every input's is
    Tensor out;
    for (const Tensor& m : masks)
      if (m.defined()) out = out.defined() ? detail::mask_and(out, m, describe()) : m;
    return {out};
  }
  std::vector<Shape> shapes;
  for (const Tensor& x : inputs) shapes.emplace_back(x.shape().begin(), x.shape().end() - 1);
  return {detail::mask_concat(masks, shapes, axis)};
}

Json Concatenate::get_config() const {
  Json c = Layer::get_config();
  c["axis"] = axis_;
  return c;
}

Add::Add(const AddOptions& o) : LayerImpl<Add>("Add", o.base) {}

void Add::build_multi(const std::vector<Shape>& in) { compute_output_shapes(in); }

std::vector<Shape> Add::compute_output_shapes(const std::vector<Shape>& in) const {
  KEEL_CHECK(in.size() >= 2, describe(), ": expected at least 2 inputs, got ", in.size());
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    bool ok = in[i].size() == out.size();
    for (size_t a = 1; ok && a < out.size(); ++a) {
      ok = in[i][a] < 0 || out[a] < 0 || in[i][a] == out[a];
      if (out[a] < 0) out[a] = in[i][a];
    }
    KEEL_CHECK(ok, describe(), ": inputs ", shape_str_none(in[0]), " and ", shape_str_none(in[i]),
               " have different shapes");
  }
  return {out};
}

std::vector<Tensor> Add::compute_mask(const std::vector<Tensor>&, const std::vector<Tensor>& masks) const {
  Tensor out;
  for (const Tensor& m : masks)
    if (m.defined()) out = out.defined() ? detail::mask_and(out, m, describe()) : m;
  if (!out.defined()) return {};
  return {out};
}

std::vector<Tensor> Add::call_multi(const std::vector<Tensor>& xs, bool) {
  KEEL_CHECK(xs.size() >= 2, describe(), ": expected at least 2 inputs, got ", xs.size());
  Tensor y = ops::add(xs[0], xs[1]);
  for (size_t i = 2; i < xs.size(); ++i) y = ops::add(y, xs[i]);
  return {y};
}

}  // namespace keel::keras::layers
