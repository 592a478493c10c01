#include "keel/keras/datasets/fashion_mnist.h"

#include <filesystem>

#include "keel/keras/datasets/idx.h"

namespace keel::datasets::fashion_mnist {

namespace {

std::string locate(const std::string& dir, const char* name) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  KEEL_CHECK(std::filesystem::exists(path), "fashion_mnist: ", path,
             " not found (install the Debian package dataset-fashion-mnist: apt-get install dataset-fashion-mnist)");
  return path;
}

// Reads one split and checks images [N,28,28], labels [N] in 0..9.
void load_split(const std::string& dir, const char* images_name, const char* labels_name, Tensor& x, Tensor& y) {
  const std::string images_path = locate(dir, images_name), labels_path = locate(dir, labels_name);
  x = read_idx(images_path);
  y = read_idx(labels_path);
  KEEL_CHECK(x.dim() == 3 && x.size(1) == 28 && x.size(2) == 28, "fashion_mnist: ", images_path, ": images are ",
             shape_str(x.shape()), ", expected [N,28,28]");
  KEEL_CHECK(y.dim() == 1, "fashion_mnist: ", labels_path, ": labels are ", shape_str(y.shape()), ", expected [N]");
  KEEL_CHECK(x.size(0) == y.size(0), "fashion_mnist: ", images_path, " has ", x.size(0), " images but ",
             labels_path, " has ", y.size(0), " labels");
  const uint8_t* labels = y.data<uint8_t>();
  for (int64_t i = 0; i < y.numel(); ++i)
    KEEL_CHECK(labels[i] < kClasses, "fashion_mnist: ", labels_path, ": label ", int{labels[i]}, " at index ", i,
               " is outside 0..", kClasses - 1);
}

}  // namespace

Data load_data(const std::string& dir) {
  Data d;
  load_split(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", d.x_train, d.y_train);
  load_split(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", d.x_test, d.y_test);
  return d;
}

}  // namespace keel::datasets::fashion_mnist
