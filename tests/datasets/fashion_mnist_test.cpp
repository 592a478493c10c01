// Fashion-MNIST from Debian's dataset-fashion-mnist: known facts of the real files, and clear errors
// for absent or inconsistent copies.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <vector>

#include "keel/keras/datasets/fashion_mnist.h"

using namespace keel;
namespace fs = std::filesystem;
namespace fm = keel::datasets::fashion_mnist;

namespace {

const fm::Data& real() {
  static const fm::Data d = fm::load_data();
  return d;
}

std::string error_of(const std::string& dir) {
  try {
    fm::load_data(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void write_gz_idx(const fs::path& path, const std::vector<uint32_t>& dims, const std::vector<unsigned char>& values) {
  std::vector<unsigned char> b{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
  b.insert(b.end(), values.begin(), values.end());
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

}  // namespace

TEST(FashionMnist, ShapesAndCounts) {
  const auto& d = real();
  EXPECT_EQ(shape_str(d.x_train.shape()), "[60000,28,28]");
  EXPECT_EQ(shape_str(d.y_train.shape()), "[60000]");
  EXPECT_EQ(shape_str(d.x_test.shape()), "[10000,28,28]");
  EXPECT_EQ(shape_str(d.y_test.shape()), "[10000]");
  for (const Tensor* t : {&d.x_train, &d.y_train, &d.x_test, &d.y_test}) EXPECT_EQ(t->dtype(), DType::u8);
}

TEST(FashionMnist, KnownFacts) {
  const auto& d = real();
  EXPECT_EQ(d.y_train.data<uint8_t>()[0], 9);  // the first training image is an ankle boot
  EXPECT_EQ(d.y_test.data<uint8_t>()[0], 9);
  // Balanced classes: 6,000 per class in train, 1,000 in test.
  std::vector<int> train(10, 0), test(10, 0);
  for (uint8_t l : d.y_train.to_vector<uint8_t>()) ++train.at(l);
  for (uint8_t l : d.y_test.to_vector<uint8_t>()) ++test.at(l);
  EXPECT_EQ(train, std::vector<int>(10, 6000));
  EXPECT_EQ(test, std::vector<int>(10, 1000));
  // The first image has full-intensity pixels and a black border.
  const uint8_t* img = d.x_train.data<uint8_t>();
  int mx = 0;
  for (int i = 0; i < 784; ++i) mx = std::max<int>(mx, img[i]);
  EXPECT_EQ(mx, 255);
  EXPECT_EQ(img[0], 0);
}

TEST(FashionMnist, AbsentFilesNameThePackage) {
  EXPECT_EQ(error_of("/nonexistent/fashion"),
            "fashion_mnist: /nonexistent/fashion/train-images-idx3-ubyte.gz not found (install the Debian package "
            "dataset-fashion-mnist: apt-get install dataset-fashion-mnist)");
}

TEST(FashionMnist, InconsistentCopiesNameTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("keel_fmnist_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string images = (dir / "train-images-idx3-ubyte.gz").string();
  const std::string labels = (dir / "train-labels-idx1-ubyte.gz").string();
  write_gz_idx(images, {2, 28, 28}, std::vector<unsigned char>(2 * 784, 7));
  write_gz_idx(labels, {3}, {1, 2, 3});
  fs::copy_file("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", dir / "t10k-images-idx3-ubyte.gz");
  fs::copy_file("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(error_of(dir.string()),
            "fashion_mnist: " + images + " has 2 images but " + labels + " has 3 labels");
  write_gz_idx(labels, {2}, {1, 12});
  EXPECT_EQ(error_of(dir.string()), "fashion_mnist: " + labels + ": label 12 at index 1 is outside 0..9");
  write_gz_idx(images, {2, 28, 27}, std::vector<unsigned char>(2 * 28 * 27, 7));
  EXPECT_EQ(error_of(dir.string()), "fashion_mnist: " + images + ": images are [2,28,27], expected [N,28,28]");
  // A truncated copy of a real file.
  write_gz_idx(images, {2, 28, 28}, std::vector<unsigned char>(2 * 784, 7));
  write_gz_idx(labels, {2}, {1, 2});
  fs::resize_file(dir / "t10k-images-idx3-ubyte.gz", 100000);
  const std::string e = error_of(dir.string());
  EXPECT_EQ(e.rfind("read_idx: " + (dir / "t10k-images-idx3-ubyte.gz").string() + ": ", 0), 0u) << e;
  fs::remove_all(dir);
}
