// A plain-loop forward pass of chain models (Dense, Conv2D 'same'/'valid' stride 1, Flatten, Dropout,
// LayerNormalization over the last axis) computed from a Keras config and the weights of an HDF5 file,
// to check keel's models against. Independent of keel's layers and ops.
#pragma once

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/keras/saving/h5/keras_h5.h"

namespace keel::test {

struct RefTensor {
  std::vector<int64_t> shape;  // batch first
  std::vector<double> v;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Layers of a model config ({"class_name", "config"}): old Sequential lists or {"layers": [...]}.
inline nlohmann::json config_layers(const nlohmann::json& model) {
  const auto& c = model.at("config");
  return c.is_array() ? c : c.at("layers");
}

inline std::vector<double> weight_of(const KerasH5File& f, const std::string& layer, const std::string& weight,
                                     std::vector<int64_t>* shape = nullptr) {
  for (const auto& l : f.layers) {
    if (l.layer_name != layer) continue;
    for (const auto& [name, t] : l.weights) {
      if (weight_short_name(name) != weight) continue;
      const float* p = t.data<float>();
      if (shape) *shape = std::vector<int64_t>(t.shape().begin(), t.shape().end());
      return std::vector<double>(p, p + t.numel());
    }
  }
  throw std::runtime_error("no weight " + layer + "/" + weight);
}

inline void activate(RefTensor& t, const std::string& a) {
  const int64_t last = t.shape.back();
  if (a == "relu") {
    for (auto& x : t.v) x = x > 0 ? x : 0;
  } else if (a == "sigmoid") {
    for (auto& x : t.v) x = 1 / (1 + std::exp(-x));
  } else if (a == "tanh") {
    for (auto& x : t.v) x = std::tanh(x);
  } else if (a == "softmax") {
    for (size_t r = 0; r < t.v.size(); r += last) {
      double m = t.v[r], s = 0;
      for (int64_t j = 0; j < last; ++j) m = std::max(m, t.v[r + j]);
      for (int64_t j = 0; j < last; ++j) s += (t.v[r + j] = std::exp(t.v[r + j] - m));
      for (int64_t j = 0; j < last; ++j) t.v[r + j] /= s;
    }
  } else if (a != "linear") {
    throw std::runtime_error("reference: activation " + a);
  }
}

inline RefTensor reference_forward(const nlohmann::json& model, const KerasH5File& f, RefTensor x) {
  for (const auto& entry : config_layers(model)) {
    const std::string cls = entry.at("class_name");
    const auto& c = entry.at("config");
    const std::string name = c.at("name");
    if (cls == "InputLayer" || cls == "Dropout") continue;
    if (cls == "Flatten") {
      int64_t n = 1;
      for (size_t i = 1; i < x.shape.size(); ++i) n *= x.shape[i];
      x.shape = {x.shape[0], n};
    } else if (cls == "Dense") {
      std::vector<int64_t> ks;
      const auto k = weight_of(f, name, "kernel", &ks);
      const int64_t in = ks[0], out = ks[1], rows = x.shape[0];
      std::vector<double> y(rows * out, 0.0);
      const bool bias = c.value("use_bias", true);
      const auto b = bias ? weight_of(f, name, "bias") : std::vector<double>(out, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
          double s = b[o];
          for (int64_t i = 0; i < in; ++i) s += x.v[r * in + i] * k[i * out + o];
          y[r * out + o] = s;
        }
      x = {{rows, out}, y};
      activate(x, c.value("activation", "linear"));
    } else if (cls == "Conv2D") {
      std::vector<int64_t> ks;
      const auto k = weight_of(f, name, "kernel", &ks);  // [kh, kw, cin, cout]
      const auto b = weight_of(f, name, "bias");
      const int64_t B = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
      const int64_t kh = ks[0], kw = ks[1], O = ks[3];
      const bool same = c.value("padding", "valid") == "same";
      const int64_t oh = same ? H : H - kh + 1, ow = same ? W : W - kw + 1;
      const int64_t pt = same ? (kh - 1) / 2 : 0, pl = same ? (kw - 1) / 2 : 0;
      std::vector<double> y(B * oh * ow * O);
      for (int64_t n = 0; n < B; ++n)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j)
            for (int64_t o = 0; o < O; ++o) {
              double s = b[o];
              for (int64_t di = 0; di < kh; ++di)
                for (int64_t dj = 0; dj < kw; ++dj) {
                  const int64_t yi = i + di - pt, xj = j + dj - pl;
                  if (yi < 0 || yi >= H || xj < 0 || xj >= W) continue;
                  for (int64_t ci = 0; ci < C; ++ci)
                    s += x.v[((n * H + yi) * W + xj) * C + ci] * k[((di * kw + dj) * C + ci) * O + o];
                }
              y[((n * oh + i) * ow + j) * O + o] = s;
            }
      x = {{B, oh, ow, O}, y};
      activate(x, c.value("activation", "linear"));
    } else if (cls == "LayerNormalization") {
      const auto g = weight_of(f, name, "gamma");
      const auto be = weight_of(f, name, "beta");
      const double eps = c.value("epsilon", 1e-3);
      const int64_t d = x.shape.back();
      for (size_t r = 0; r < x.v.size(); r += d) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < d; ++j) mean += x.v[r + j];
        mean /= d;
        for (int64_t j = 0; j < d; ++j) var += (x.v[r + j] - mean) * (x.v[r + j] - mean);
        var /= d;
        for (int64_t j = 0; j < d; ++j) x.v[r + j] = (x.v[r + j] - mean) / std::sqrt(var + eps) * g[j] + be[j];
      }
    } else {
      throw std::runtime_error("reference: layer class " + cls);
    }
  }
  return x;
}

// Deterministic inputs in [-1, 1].
inline RefTensor test_input(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  RefTensor t{shape, std::vector<double>(n)};
  for (int64_t i = 0; i < n; ++i) t.v[i] = std::sin(0.37 * static_cast<double>(i) + 0.1);
  return t;
}

}  // namespace keel::test
