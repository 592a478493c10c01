// Tests' Fashion-MNIST subsets: the first n_train training and n_test test images, pixels scaled to
// [0, 1] and flattened to 784, with their labels. Loaded once per (n_train, n_test) and process.
//
//   const auto& d = keel::testing::fashion_subset(256, 128);
//   model.fit(d.x_train, d.y_train, ...);  model.evaluate(d.x_test, d.y_test);
#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "keel/graph/tensor.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/trainer.h"

namespace keel::testing {

struct FashionSubset {
  Tensor x_train, y_train, x_test, y_test;
};

inline Tensor flat_unit_pixels(const Tensor& images, int64_t n) {
  Tensor f = keras::detail::take_rows(images, 0, n).to(DType::f32).view({n, 784});
  float* p = f.data<float>();
  for (int64_t i = 0; i < f.numel(); ++i) p[i] /= 255.0f;
  return f;
}

inline const FashionSubset& fashion_subset(int64_t n_train, int64_t n_test) {
  static std::map<std::pair<int64_t, int64_t>, FashionSubset> cache;
  auto it = cache.find({n_train, n_test});
  if (it == cache.end()) {
    const auto d = datasets::fashion_mnist::load_data();
    FashionSubset s{flat_unit_pixels(d.x_train, n_train), keras::detail::take_rows(d.y_train, 0, n_train),
                    flat_unit_pixels(d.x_test, n_test), keras::detail::take_rows(d.y_test, 0, n_test)};
    it = cache.emplace(std::make_pair(n_train, n_test), std::move(s)).first;
  }
  return it->second;
}

}  // namespace keel::testing
