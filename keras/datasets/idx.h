// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//
//   Tensor images = keel::datasets::read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
//   images.shape();   // [60000,28,28], dtype u8
//
// Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type read here), a rank byte,
// then `rank` big-endian u32 dimensions, then the values row-major. The reader checks the magic, a
// rank in 1..4, and that the payload is exactly as long as the dimensions say (no missing or trailing
// bytes), allocating no more than the file could hold. Every failure is a keel::Error naming the file.
#pragma once

#include <string>

#include "keel/graph/tensor.h"

namespace keel::datasets {

// Reads an IDX file of unsigned bytes into a u8 tensor with the file's dimensions.
Tensor read_idx(const std::string& path);

}  // namespace keel::datasets
