#include "keel/keras/initializers.h"

#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "keel/graph/error.h"

namespace keel::keras {

Tensor Initializer::operator()(const Shape& shape, Generator& gen, DType dtype) const {
  KEEL_CHECK(dtype == DType::f32 || dtype == DType::f64, class_name(), ": cannot initialize a ",
             dtype_name(dtype), " tensor of shape ", shape_str(shape));
  if (seed_) {
    Generator own(*seed_);
    return draw(shape, own, dtype);
  }
  return draw(shape, gen, dtype);
}

Json Initializer::seed_json() const { return seed_ ? Json(*seed_) : Json(nullptr); }

namespace initializers {

Fans compute_fans(const Shape& shape) {
  Fans f;
  if (shape.empty()) return f;
  if (shape.size() == 1) {
    f.fan_in = f.fan_out = static_cast<double>(shape[0]);
    return f;
  }
  double receptive = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
  f.fan_in = static_cast<double>(shape[shape.size() - 2]) * receptive;
  f.fan_out = static_cast<double>(shape[shape.size() - 1]) * receptive;
  return f;
}

Tensor Zeros::draw(const Shape& s, Generator&, DType d) const { return Tensor::zeros(s, d); }
Tensor Ones::draw(const Shape& s, Generator&, DType d) const { return Tensor::ones(s, d); }

Json Constant::get_config() const { return Json{{"value", value_}}; }
Tensor Constant::draw(const Shape& s, Generator&, DType d) const { return Tensor::full(s, value_, d); }

Json RandomNormal::get_config() const {
  return Json{{"mean", mean_}, {"stddev", stddev_}, {"seed", seed_json()}};
}
Tensor RandomNormal::draw(const Shape& s, Generator& g, DType d) const {
  return Tensor::normal(s, g, mean_, stddev_, d);
}

Json RandomUniform::get_config() const {
  return Json{{"minval", minval_}, {"maxval", maxval_}, {"seed", seed_json()}};
}
Tensor RandomUniform::draw(const Shape& s, Generator& g, DType d) const {
  return Tensor::uniform(s, g, minval_, maxval_, d);
}

Json TruncatedNormal::get_config() const {
  return Json{{"mean", mean_}, {"stddev", stddev_}, {"seed", seed_json()}};
}
Tensor TruncatedNormal::draw(const Shape& s, Generator& g, DType d) const {
  return Tensor::truncated_normal(s, g, mean_, stddev_, d);
}

VarianceScaling::VarianceScaling(double scale, std::string mode, std::string distribution,
                                 std::optional<uint64_t> seed)
    : Initializer(seed), scale_(scale), mode_(std::move(mode)), distribution_(std::move(distribution)) {
  KEEL_CHECK(scale_ > 0, "VarianceScaling: scale must be positive, got ", scale_);
  KEEL_CHECK(mode_ == "fan_in" || mode_ == "fan_out" || mode_ == "fan_avg",
             "VarianceScaling: invalid mode '", mode_, "' (expected fan_in, fan_out or fan_avg)");
  if (distribution_ == "normal") distribution_ = "truncated_normal";  // Keras's alias
  KEEL_CHECK(distribution_ == "truncated_normal" || distribution_ == "untruncated_normal" ||
                 distribution_ == "uniform",
             "VarianceScaling: invalid distribution '", distribution_,
             "' (expected truncated_normal, untruncated_normal or uniform)");
}

Json VarianceScaling::get_config() const {
  return Json{{"scale", scale_}, {"mode", mode_}, {"distribution", distribution_}, {"seed", seed_json()}};
}

Tensor VarianceScaling::draw(const Shape& s, Generator& g, DType d) const {
  const Fans f = compute_fans(s);
  double fan = f.fan_in;
  if (mode_ == "fan_out") fan = f.fan_out;
  if (mode_ == "fan_avg") fan = (f.fan_in + f.fan_out) / 2.0;
  const double variance = scale_ / std::max(1.0, fan);
  if (distribution_ == "truncated_normal") {
    return Tensor::truncated_normal(s, g, 0.0, std::sqrt(variance) / 0.87962566103423978, d);
  }
  if (distribution_ == "untruncated_normal") return Tensor::normal(s, g, 0.0, std::sqrt(variance), d);
  const double limit = std::sqrt(3.0 * variance);
  return Tensor::uniform(s, g, -limit, limit, d);
}

Json Orthogonal::get_config() const { return Json{{"gain", gain_}, {"seed", seed_json()}}; }

Tensor Orthogonal::draw(const Shape& s, Generator& g, DType d) const {
  KEEL_CHECK(s.size() >= 2, "Orthogonal: the shape must have rank >= 2, got ", shape_str(s));
  const int64_t cols = s.back();
  const int64_t rows = checked_numel(s, "Orthogonal") / std::max<int64_t>(cols, 1);
  const int64_t n = std::max(rows, cols), m = std::min(rows, cols);
  // a: [n, m] standard normal; modified Gram-Schmidt (twice, for stability) on its columns gives
  // Q with R's diagonal positive, i.e. q * sign(diag(r)) of Keras.
  std::vector<double> a(static_cast<size_t>(n * m));
  g.fill_normal(a.data(), n * m, 0.0, 1.0);
  for (int64_t j = 0; j < m; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < n; ++i) dot += a[i * m + j] * a[i * m + k];
        for (int64_t i = 0; i < n; ++i) a[i * m + j] -= dot * a[i * m + k];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += a[i * m + j] * a[i * m + j];
    norm = std::sqrt(norm);
    KEEL_CHECK(norm > 0, "Orthogonal: degenerate random matrix for shape ", shape_str(s));
    for (int64_t i = 0; i < n; ++i) a[i * m + j] /= norm;
  }
  Tensor out = Tensor::zeros(s, DType::f64);
  double* o = out.data<double>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      // rows >= cols: out = q [rows, cols]; otherwise out = q^T with q [cols, rows].
      o[r * cols + c] = gain_ * (rows >= cols ? a[r * m + c] : a[c * m + r]);
    }
  }
  return d == DType::f64 ? out : out.to(d);
}

namespace {
using Factory = std::function<InitializerPtr(const Json&)>;
std::optional<uint64_t> seed_of(const Json& c) {
  if (c.contains("seed") && !c["seed"].is_null()) return c["seed"].get<uint64_t>();
  return std::nullopt;
}
double num(const Json& c, const char* key, double fallback) {
  return c.contains(key) && !c[key].is_null() ? c[key].get<double>() : fallback;
}
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Zeros", [](const Json&) { return std::make_shared<Zeros>(); }},
      {"Ones", [](const Json&) { return std::make_shared<Ones>(); }},
      {"Constant", [](const Json& c) { return std::make_shared<Constant>(num(c, "value", 0)); }},
      {"RandomNormal",
       [](const Json& c) {
         return std::make_shared<RandomNormal>(num(c, "mean", 0), num(c, "stddev", 0.05), seed_of(c));
       }},
      {"RandomUniform",
       [](const Json& c) {
         return std::make_shared<RandomUniform>(num(c, "minval", -0.05), num(c, "maxval", 0.05), seed_of(c));
       }},
      {"TruncatedNormal",
       [](const Json& c) {
         return std::make_shared<TruncatedNormal>(num(c, "mean", 0), num(c, "stddev", 0.05), seed_of(c));
       }},
      {"VarianceScaling",
       [](const Json& c) {
         return std::make_shared<VarianceScaling>(num(c, "scale", 1.0), c.value("mode", "fan_in"),
                                                  c.value("distribution", "truncated_normal"), seed_of(c));
       }},
      {"GlorotUniform", [](const Json& c) { return std::make_shared<GlorotUniform>(seed_of(c)); }},
      {"GlorotNormal", [](const Json& c) { return std::make_shared<GlorotNormal>(seed_of(c)); }},
      {"HeNormal", [](const Json& c) { return std::make_shared<HeNormal>(seed_of(c)); }},
      {"HeUniform", [](const Json& c) { return std::make_shared<HeUniform>(seed_of(c)); }},
      {"LecunNormal", [](const Json& c) { return std::make_shared<LecunNormal>(seed_of(c)); }},
      {"LecunUniform", [](const Json& c) { return std::make_shared<LecunUniform>(seed_of(c)); }},
      {"Orthogonal",
       [](const Json& c) { return std::make_shared<Orthogonal>(num(c, "gain", 1.0), seed_of(c)); }},
  };
  return table;
}
const std::map<std::string, std::string>& aliases() {
  static const std::map<std::string, std::string> table = {
      {"zeros", "Zeros"}, {"zero", "Zeros"}, {"ones", "Ones"}, {"one", "Ones"},
      {"constant", "Constant"}, {"random_normal", "RandomNormal"}, {"normal", "RandomNormal"},
      {"random_uniform", "RandomUniform"}, {"uniform", "RandomUniform"},
      {"truncated_normal", "TruncatedNormal"}, {"variance_scaling", "VarianceScaling"},
      {"glorot_uniform", "GlorotUniform"}, {"glorot_normal", "GlorotNormal"},
      {"he_normal", "HeNormal"}, {"he_uniform", "HeUniform"}, {"lecun_normal", "LecunNormal"},
      {"lecun_uniform", "LecunUniform"}, {"orthogonal", "Orthogonal"},
  };
  return table;
}
}  // namespace

InitializerPtr get(const std::string& name) {
  auto a = aliases().find(name);
  const std::string cls = a != aliases().end() ? a->second : name;
  auto f = factories().find(cls);
  if (f == factories().end()) {
    std::string known;
    for (const auto& [alias, c] : aliases()) known += (known.empty() ? "" : ", ") + alias;
    KEEL_FAIL("unknown initializer '", name, "' (known: ", known, ", or a class name such as GlorotUniform)");
  }
  return f->second(Json::object());
}

Json serialize(const Initializer& init) {
  return Json{{"class_name", init.class_name()}, {"config", init.get_config()}};
}

InitializerPtr deserialize(const Json& config) {
  if (config.is_string()) return get(config.get<std::string>());
  KEEL_CHECK(config.is_object() && config.contains("class_name") && config["class_name"].is_string(),
             "initializer config must be a name or {\"class_name\", \"config\"}, got ", config.dump());
  const std::string cls = config["class_name"].get<std::string>();
  auto f = factories().find(cls);
  if (f == factories().end()) {
    std::string known;
    for (const auto& [c, make] : factories()) known += (known.empty() ? "" : ", ") + c;
    KEEL_FAIL("unknown initializer class '", cls, "' (known: ", known, ")");
  }
  return f->second(config.contains("config") ? config["config"] : Json::object());
}

}  // namespace initializers
}  // namespace keel::keras
