#include "keel/keras/layers/input_layer.h"

#include "keel/graph/error.h"
#include "keel/keras/layers/backend.h"

namespace keel::keras {

std::string keras_dtype_name(DType d) {
  switch (d) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
    case DType::boolean: return "bool";
    case DType::string: return "string";
  }
  return "float32";
}

DType dtype_from_keras_name(const std::string& n) {
  for (DType d : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::boolean, DType::string}) {
    if (keras_dtype_name(d) == n) return d;
  }
  KEEL_FAIL("Unknown dtype: '", n, "'");
}

namespace layers {

namespace {
LayerArgs input_args(const std::string& name) {
  LayerArgs a;
  a.name = name.empty() ? backend::unique_object_name("input", /*zero_based=*/false) : name;
  return a;
}
}  // namespace

InputLayer::InputLayer(const Shape& batch_input_shape, DType dtype, const std::string& name)
    : LayerImpl<InputLayer>("InputLayer", input_args(name)), dtype_(dtype) {
  set_batch_input_shape(batch_input_shape);
  maybe_build(batch_input_shape);
}

Tensor InputLayer::call(const Tensor& x, bool) { return x; }

KerasTensor InputLayer::output() {
  auto self = std::static_pointer_cast<Layer>(weak_from_this().lock());
  KEEL_CHECK(self != nullptr, describe(), ": an InputLayer must be owned by a std::shared_ptr");
  if (inbound_nodes().empty()) {
    LayerNode node;
    node.output_shapes = {*batch_input_shape_};
    node.output_dtypes = {dtype_};
    add_node(node);
  }
  return KerasTensor(*batch_input_shape_, dtype_, self, 0, 0);
}

Json InputLayer::get_config() const {
  Json c;
  Json s = Json::array();
  for (int64_t d : *batch_input_shape_) s.push_back(d < 0 ? Json(nullptr) : Json(d));
  c["batch_input_shape"] = s;
  c["dtype"] = keras_dtype_name(dtype_);
  c["sparse"] = false;
  c["ragged"] = false;
  c["name"] = name();
  return c;
}

}  // namespace layers

KerasTensor Input(const InputOptions& o) {
  Shape s{o.batch_size_ ? *o.batch_size_ : -1};
  s.insert(s.end(), o.shape_.begin(), o.shape_.end());
  auto layer = std::make_shared<layers::InputLayer>(s, o.dtype_, o.name_);
  return layer->output();
}

}  // namespace keel::keras
