#include "keel/keras/layers/registry.h"

#include <map>
#include <mutex>

#include "keel/graph/error.h"
#include "keel/keras/layers/bidirectional.h"
#include "keel/keras/layers/conv.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/layers/embedding.h"
#include "keel/keras/layers/input_layer.h"
#include "keel/keras/layers/normalization.h"
#include "keel/keras/model.h"

namespace keel::keras {

namespace {

template <class T>
T get_or(const Json& c, const char* key, T fallback) {
  return c.contains(key) && !c[key].is_null() ? c[key].get<T>() : fallback;
}
std::pair<int64_t, int64_t> pair_of(const Json& c, const char* key, int64_t fallback) {
  if (!c.contains(key) || c[key].is_null()) return {fallback, fallback};
  const Json& v = c[key];
  if (v.is_number()) return {v.get<int64_t>(), v.get<int64_t>()};
  KEEL_CHECK(v.is_array() && v.size() == 2, "layer config: '", key, "' must be an integer or a pair, got ",
             v.dump());
  return {v[0].get<int64_t>(), v[1].get<int64_t>()};
}
InitializerPtr init_of(const Json& c, const char* key, InitializerPtr fallback) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  try {
    return initializers::deserialize(c[key]);
  } catch (const Error& e) {
    const std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
    KEEL_FAIL("layer '", name, "' ", key, ": ", e.what());
  }
}
std::string activation_of(const Json& c) {
  if (!c.contains("activation") || c["activation"].is_null()) return "linear";
  const Json& a = c["activation"];
  if (a.is_string()) return a.get<std::string>();
  // Keras 3 may write {"class_name": "function", "config": "relu", ...}
  if (a.is_object() && a.contains("config") && a["config"].is_string()) return a["config"].get<std::string>();
  KEEL_FAIL("layer config: unsupported activation ", a.dump());
}
void check_channels_last(const Json& c) {
  const std::string f = get_or<std::string>(c, "data_format", "channels_last");
  KEEL_CHECK(f == "channels_last", "layer '", get_or<std::string>(c, "name", ""),
             "': data_format '", f, "' is not supported (only channels_last)");
}

std::map<std::string, LayerFactory> builtins() {
  using namespace layers;
  std::map<std::string, LayerFactory> t;
  t["InputLayer"] = [](const Json& c) -> std::shared_ptr<Layer> {
    Shape s;
    const Json& b = c.contains("batch_input_shape") ? c["batch_input_shape"] : c.at("batch_shape");
    for (const Json& d : b) s.push_back(d.is_null() ? -1 : d.get<int64_t>());
    return std::make_shared<InputLayer>(s, dtype_from_keras_name(get_or<std::string>(c, "dtype", "float32")),
                                        get_or<std::string>(c, "name", ""));
  };
  t["Dense"] = [](const Json& c) -> std::shared_ptr<Layer> {
    DenseOptions o(c.at("units").get<int64_t>());
    o.base = layer_args_from_config(c);
    o.activation(activation_of(c)).use_bias(get_or(c, "use_bias", true));
    o.kernel_initializer(init_of(c, "kernel_initializer", o.kernel_initializer_));
    o.bias_initializer(init_of(c, "bias_initializer", o.bias_initializer_));
    return std::make_shared<Dense>(o);
  };
  t["Dropout"] = [](const Json& c) -> std::shared_ptr<Layer> {
    DropoutOptions o(c.at("rate").get<double>());
    o.base = layer_args_from_config(c);
    if (c.contains("seed") && !c["seed"].is_null()) o.seed(c["seed"].get<uint64_t>());
    return std::make_shared<Dropout>(o);
  };
  t["Flatten"] = [](const Json& c) -> std::shared_ptr<Layer> {
    check_channels_last(c);
    FlattenOptions o;
    o.base = layer_args_from_config(c);
    return std::make_shared<Flatten>(o);
  };
  t["Reshape"] = [](const Json& c) -> std::shared_ptr<Layer> {
    ReshapeOptions o(c.at("target_shape").get<Shape>());
    o.base = layer_args_from_config(c);
    return std::make_shared<Reshape>(o);
  };
  t["Activation"] = [](const Json& c) -> std::shared_ptr<Layer> {
    ActivationOptions o(activation_of(c));
    o.base = layer_args_from_config(c);
    return std::make_shared<Activation>(o);
  };
  t["Conv2D"] = [](const Json& c) -> std::shared_ptr<Layer> {
    check_channels_last(c);
    const auto k = pair_of(c, "kernel_size", 1);
    Conv2DOptions o(c.at("filters").get<int64_t>(), k.first, k.second);
    o.base = layer_args_from_config(c);
    const auto s = pair_of(c, "strides", 1), d = pair_of(c, "dilation_rate", 1);
    KEEL_CHECK(get_or<int64_t>(c, "groups", 1) == 1, "Conv2D '", o.base.name, "': groups > 1 is not supported");
    o.strides(s.first, s.second).dilation_rate(d.first, d.second).padding(get_or<std::string>(c, "padding", "valid"));
    o.activation(activation_of(c)).use_bias(get_or(c, "use_bias", true));
    o.kernel_initializer(init_of(c, "kernel_initializer", o.kernel_initializer_));
    o.bias_initializer(init_of(c, "bias_initializer", o.bias_initializer_));
    return std::make_shared<Conv2D>(o);
  };
  auto pool = [](const Json& c) {
    check_channels_last(c);
    const auto p = pair_of(c, "pool_size", 2);
    Pool2DOptions o(p.first, p.second);
    o.base = layer_args_from_config(c);
    const auto s = pair_of(c, "strides", 0);
    return o.strides(s.first, s.second).padding(get_or<std::string>(c, "padding", "valid"));
  };
  t["MaxPooling2D"] = [pool](const Json& c) -> std::shared_ptr<Layer> { return std::make_shared<MaxPooling2D>(pool(c)); };
  t["AveragePooling2D"] = [pool](const Json& c) -> std::shared_ptr<Layer> {
    return std::make_shared<AveragePooling2D>(pool(c));
  };
  t["GlobalAveragePooling2D"] = [](const Json& c) -> std::shared_ptr<Layer> {
    check_channels_last(c);
    GlobalPoolOptions o;
    o.base = layer_args_from_config(c);
    return std::make_shared<GlobalAveragePooling2D>(o.keepdims(get_or(c, "keepdims", false)));
  };
  // -1 or [k]: k must be the last axis, which the layer checks when it is built and knows the rank.
  auto last_axis_only = [](const Json& c, const char* cls) -> int64_t {
    if (!c.contains("axis") || c["axis"].is_null()) return -1;
    const Json& a = c["axis"];
    const bool ok = (a.is_number_integer() && a.get<int64_t>() == -1) || (a.is_array() && a.size() == 1 &&
                                                                          a[0].is_number_integer());
    KEEL_CHECK(ok, cls, " '", get_or<std::string>(c, "name", ""), "': only the last axis is supported, got ", a.dump());
    return a.is_array() ? a[0].get<int64_t>() : -1;
  };
  t["BatchNormalization"] = [last_axis_only](const Json& c) -> std::shared_ptr<Layer> {
    BatchNormalizationOptions o;
    o.axis(last_axis_only(c, "BatchNormalization"));
    o.base = layer_args_from_config(c);
    o.momentum(get_or(c, "momentum", 0.99)).epsilon(get_or(c, "epsilon", 1e-3));
    o.center(get_or(c, "center", true)).scale(get_or(c, "scale", true));
    o.beta_initializer_ = init_of(c, "beta_initializer", o.beta_initializer_);
    o.gamma_initializer_ = init_of(c, "gamma_initializer", o.gamma_initializer_);
    o.moving_mean_initializer_ = init_of(c, "moving_mean_initializer", o.moving_mean_initializer_);
    o.moving_variance_initializer_ = init_of(c, "moving_variance_initializer", o.moving_variance_initializer_);
    return std::make_shared<BatchNormalization>(o);
  };
  t["LayerNormalization"] = [last_axis_only](const Json& c) -> std::shared_ptr<Layer> {
    LayerNormalizationOptions o;
    o.axis(last_axis_only(c, "LayerNormalization"));
    o.base = layer_args_from_config(c);
    o.epsilon(get_or(c, "epsilon", 1e-3)).center(get_or(c, "center", true)).scale(get_or(c, "scale", true));
    o.beta_initializer_ = init_of(c, "beta_initializer", o.beta_initializer_);
    o.gamma_initializer_ = init_of(c, "gamma_initializer", o.gamma_initializer_);
    return std::make_shared<LayerNormalization>(o);
  };
  t["Embedding"] = [](const Json& c) -> std::shared_ptr<Layer> {
    EmbeddingOptions o(c.at("input_dim").get<int64_t>(), c.at("output_dim").get<int64_t>());
    o.base = layer_args_from_config(c);
    if (c.contains("input_length") && !c["input_length"].is_null()) o.input_length(c["input_length"].get<int64_t>());
    o.embeddings_initializer(init_of(c, "embeddings_initializer", o.embeddings_initializer_));
    o.mask_zero(get_or(c, "mask_zero", false));
    return std::make_shared<Embedding>(o);
  };
  t["LSTM"] = [](const Json& c) -> std::shared_ptr<Layer> {
    LSTMOptions o(c.at("units").get<int64_t>());
    o.base = layer_args_from_config(c);
    const std::string name = o.base.name;
    KEEL_CHECK(get_or<std::string>(c, "activation", "tanh") == "tanh" &&
                   get_or<std::string>(c, "recurrent_activation", "sigmoid") == "sigmoid",
               "LSTM '", name, "': only activation 'tanh' with recurrent_activation 'sigmoid' is supported");
    for (const char* flag : {"stateful", "time_major"}) {
      KEEL_CHECK(!get_or(c, flag, false), "LSTM '", name, "': ", flag, "=true is not supported");
    }
    o.return_sequences(get_or(c, "return_sequences", false)).return_state(get_or(c, "return_state", false));
    o.go_backwards(get_or(c, "go_backwards", false));
    o.use_bias(get_or(c, "use_bias", true)).unit_forget_bias(get_or(c, "unit_forget_bias", true));
    o.kernel_initializer_ = init_of(c, "kernel_initializer", o.kernel_initializer_);
    o.recurrent_initializer_ = init_of(c, "recurrent_initializer", o.recurrent_initializer_);
    o.bias_initializer_ = init_of(c, "bias_initializer", o.bias_initializer_);
    return std::make_shared<LSTM>(o);
  };
  t["Bidirectional"] = [](const Json& c) -> std::shared_ptr<Layer> {
    const LayerArgs args = layer_args_from_config(c);
    KEEL_CHECK(c.contains("layer") && c["layer"].is_object(), "Bidirectional '", args.name,
               "': the config has no 'layer' entry ({\"class_name\": \"LSTM\", \"config\": {...}})");
    BidirectionalOptions o(layer_from_config(c["layer"]));
    o.base = args;
    if (c.contains("merge_mode")) {
      const Json& m = c["merge_mode"];
      KEEL_CHECK(m.is_null() || m.is_string(), "Bidirectional '", args.name, "': merge_mode must be a string or null, got ",
                 m.dump());
      o.merge_mode(m.is_null() ? std::nullopt : std::optional<std::string>(m.get<std::string>()));
    }
    if (c.contains("backward_layer") && !c["backward_layer"].is_null())
      o.backward_layer(layer_from_config(c["backward_layer"]));
    return std::make_shared<Bidirectional>(o);
  };
  t["Concatenate"] = [](const Json& c) -> std::shared_ptr<Layer> {
    ConcatenateOptions o;
    o.base = layer_args_from_config(c);
    return std::make_shared<Concatenate>(o.axis(get_or<int64_t>(c, "axis", -1)));
  };
  t["Add"] = [](const Json& c) -> std::shared_ptr<Layer> {
    AddOptions o;
    o.base = layer_args_from_config(c);
    return std::make_shared<Add>(o);
  };
  auto model = [](const std::string& cls) {
    return [cls](const Json& c) -> std::shared_ptr<Layer> {
      return model_from_config(Json{{"class_name", cls}, {"config", c}});
    };
  };
  t["Sequential"] = model("Sequential");
  t["Functional"] = model("Functional");
  t["Model"] = model("Model");
  return t;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, LayerFactory> factories = builtins();
};
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

LayerArgs layer_args_from_config(const Json& c) {
  LayerArgs a;
  a.name = get_or<std::string>(c, "name", "");
  a.trainable = get_or(c, "trainable", true);
  if (c.contains("batch_input_shape") && !c["batch_input_shape"].is_null()) {
    const Json& b = c["batch_input_shape"];
    KEEL_CHECK(b.is_array() && !b.empty(), "layer '", a.name, "': invalid batch_input_shape ", b.dump());
    if (!b[0].is_null()) a.batch_size = b[0].get<int64_t>();
    Shape s;
    for (size_t i = 1; i < b.size(); ++i) s.push_back(b[i].is_null() ? -1 : b[i].get<int64_t>());
    a.input_shape = s;
  }
  return a;
}

void register_layer(const std::string& class_name, LayerFactory factory) {
  KEEL_CHECK(!class_name.empty() && factory, "register_layer: a class name and a factory are required");
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[class_name] = std::move(factory);
}

bool is_layer_registered(const std::string& class_name) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.factories.count(class_name) > 0;
}

std::vector<std::string> registered_layers() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [k, v] : r.factories) out.push_back(k);
  return out;
}

std::shared_ptr<Layer> layer_from_config(const Json& entry) {
  KEEL_CHECK(entry.is_object() && entry.contains("class_name") && entry["class_name"].is_string(),
             "layer config must be {\"class_name\": ..., \"config\": ...}");
  const std::string cls = entry["class_name"].get<std::string>();
  LayerFactory f;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(cls);
    KEEL_CHECK(it != r.factories.end(), "Unknown layer: '", cls, "'. Register it with keras::register_layer<T>(\"",
               cls, "\")");
    f = it->second;
  }
  const Json config = entry.contains("config") ? entry["config"] : Json::object();
  std::shared_ptr<Layer> layer;
  try {
    layer = f(config);
  } catch (const nlohmann::json::exception& e) {  // a field missing or of the wrong type
    const std::string name = config.is_object() && config.contains("name") ? config["name"].dump() : "(no name)";
    KEEL_FAIL("layer config of ", cls, " ", name, ": ", e.what());
  }
  KEEL_CHECK(layer != nullptr, "the factory of layer class '", cls, "' returned null");
  return layer;
}

}  // namespace keel::keras
