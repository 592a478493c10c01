// Keras initializers by name, with Keras's defaults, formulas and config JSON.
//
//   auto init = keras::initializers::get("glorot_uniform");     // GlorotUniform(seed=None)
//   Generator gen(7);
//   Tensor w = (*init)({784, 128}, gen);                        // U(-sqrt(6/(fan_in+fan_out)), +...)
//   init->get_config();   // {"seed": null};  keras::initializers::serialize(*init) adds class_name
//
// An initializer given a seed (GlorotUniform(42)) draws from Generator(seed) and ignores `gen`, so it
// returns the same values every call, as Keras does. Without a seed it draws from `gen`.
// Fans follow Keras: rank 0 -> 1, 1; rank 1 -> n, n; rank 2 -> [in, out]; higher ranks multiply the
// receptive field (all dims but the last two) into both.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"

namespace keel::keras {

// Configs keep Keras's key order, so that to_json() text matches what Keras writes.
using Json = nlohmann::ordered_json;

class Initializer {
 public:
  explicit Initializer(std::optional<uint64_t> seed = std::nullopt) : seed_(seed) {}
  virtual ~Initializer() = default;
  virtual std::string class_name() const = 0;
  virtual Json get_config() const = 0;
  // Draws a tensor of `shape` (f32 unless `dtype`).
  Tensor operator()(const Shape& shape, Generator& gen, DType dtype = DType::f32) const;
  const std::optional<uint64_t>& seed() const { return seed_; }

 protected:
  virtual Tensor draw(const Shape& shape, Generator& gen, DType dtype) const = 0;
  Json seed_json() const;

 private:
  std::optional<uint64_t> seed_;
};
using InitializerPtr = std::shared_ptr<const Initializer>;

namespace initializers {

struct Fans {
  double fan_in = 1, fan_out = 1;
};
Fans compute_fans(const Shape& shape);

class Zeros : public Initializer {
 public:
  std::string class_name() const override { return "Zeros"; }
  Json get_config() const override { return Json::object(); }
 protected:
  Tensor draw(const Shape& s, Generator&, DType d) const override;
};

class Ones : public Initializer {
 public:
  std::string class_name() const override { return "Ones"; }
  Json get_config() const override { return Json::object(); }
 protected:
  Tensor draw(const Shape& s, Generator&, DType d) const override;
};

class Constant : public Initializer {
 public:
  explicit Constant(double value = 0) : value_(value) {}
  std::string class_name() const override { return "Constant"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator&, DType d) const override;
 private:
  double value_;
};

class RandomNormal : public Initializer {
 public:
  explicit RandomNormal(double mean = 0.0, double stddev = 0.05, std::optional<uint64_t> seed = {})
      : Initializer(seed), mean_(mean), stddev_(stddev) {}
  std::string class_name() const override { return "RandomNormal"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator& g, DType d) const override;
 private:
  double mean_, stddev_;
};

class RandomUniform : public Initializer {
 public:
  explicit RandomUniform(double minval = -0.05, double maxval = 0.05, std::optional<uint64_t> seed = {})
      : Initializer(seed), minval_(minval), maxval_(maxval) {}
  std::string class_name() const override { return "RandomUniform"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator& g, DType d) const override;
 private:
  double minval_, maxval_;
};

class TruncatedNormal : public Initializer {
 public:
  explicit TruncatedNormal(double mean = 0.0, double stddev = 0.05, std::optional<uint64_t> seed = {})
      : Initializer(seed), mean_(mean), stddev_(stddev) {}
  std::string class_name() const override { return "TruncatedNormal"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator& g, DType d) const override;
 private:
  double mean_, stddev_;
};

// scale / max(1, fan) as variance; "truncated_normal" divides the stddev by 0.8796256610342398 (the
// stddev of a unit normal truncated at two stddevs), "untruncated_normal" does not, "uniform" uses
// limit sqrt(3 * variance).
class VarianceScaling : public Initializer {
 public:
  explicit VarianceScaling(double scale = 1.0, std::string mode = "fan_in",
                           std::string distribution = "truncated_normal", std::optional<uint64_t> seed = {});
  std::string class_name() const override { return "VarianceScaling"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator& g, DType d) const override;
 private:
  double scale_;
  std::string mode_, distribution_;
};

// The named variants: config is {"seed": ...} only, like Keras.
#define KEEL_KERAS_VS_INIT(Name, scale, mode, dist)                                   \
  class Name : public VarianceScaling {                                               \
   public:                                                                            \
    explicit Name(std::optional<uint64_t> seed = {}) : VarianceScaling(scale, mode, dist, seed) {} \
    std::string class_name() const override { return #Name; }                        \
    Json get_config() const override { return Json{{"seed", seed_json()}}; }          \
  };
KEEL_KERAS_VS_INIT(GlorotUniform, 1.0, "fan_avg", "uniform")
KEEL_KERAS_VS_INIT(GlorotNormal, 1.0, "fan_avg", "truncated_normal")
KEEL_KERAS_VS_INIT(HeNormal, 2.0, "fan_in", "truncated_normal")
KEEL_KERAS_VS_INIT(HeUniform, 2.0, "fan_in", "uniform")
KEEL_KERAS_VS_INIT(LecunNormal, 1.0, "fan_in", "truncated_normal")
KEEL_KERAS_VS_INIT(LecunUniform, 1.0, "fan_in", "uniform")
#undef KEEL_KERAS_VS_INIT

// Keras's Orthogonal: QR of a normal [max(r,c), min(r,c)] matrix over the shape flattened to
// [prod(shape[:-1]), shape[-1]], Q's columns signed by diag(R), transposed when r < c, times gain.
class Orthogonal : public Initializer {
 public:
  explicit Orthogonal(double gain = 1.0, std::optional<uint64_t> seed = {}) : Initializer(seed), gain_(gain) {}
  std::string class_name() const override { return "Orthogonal"; }
  Json get_config() const override;
 protected:
  Tensor draw(const Shape& s, Generator& g, DType d) const override;
 private:
  double gain_;
};

// By Keras name ("glorot_uniform", "he_normal", "zeros", "orthogonal", ...) or class name
// ("GlorotUniform"). Unknown names throw, listing the known ones: `unknown initializer 'foo' (known: constant, ...)`.
InitializerPtr get(const std::string& name);
// {"class_name": ..., "config": ...}
Json serialize(const Initializer& init);
// From {"class_name": ..., "config": {...}} (Keras 2 and 3 spellings; "module" keys are ignored).
InitializerPtr deserialize(const Json& config);

}  // namespace initializers
}  // namespace keel::keras
