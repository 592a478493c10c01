// Fashion-MNIST, like keras.datasets.fashion_mnist, read from Debian's `dataset-fashion-mnist`
// package (/usr/share/datasets/fashion-mnist/*.gz, IDX format).
//
//   auto d = keel::datasets::fashion_mnist::load_data();
//   d.x_train;   // u8 [60000,28,28]     d.y_train;   // u8 [60000], classes 0..9
//   d.x_test;    // u8 [10000,28,28]     d.y_test;    // u8 [10000]
//
// Missing files throw a keel::Error naming the file and the Debian package to install; malformed
// files (wrong dims, counts that disagree, labels outside 0..9) throw naming the file.
#pragma once

#include <string>

#include "keel/graph/tensor.h"

namespace keel::datasets::fashion_mnist {

struct Data {
  Tensor x_train, y_train, x_test, y_test;
};

constexpr const char* kDefaultDir = "/usr/share/datasets/fashion-mnist";
constexpr int kClasses = 10;

// Reads the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from `dir`.
Data load_data(const std::string& dir = kDefaultDir);

}  // namespace keel::datasets::fashion_mnist
