// IDX reader: plain and gzip files written here, the real Fashion-MNIST label file, and corrupt copies.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "keel/keras/datasets/idx.h"

using namespace keel;
namespace fs = std::filesystem;

namespace {

const std::string kRealLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("keel_idx_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<unsigned char>& bytes, bool gzip = false) {
    const std::string path = (dir_ / name).string();
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    return path;
  }
  std::vector<unsigned char> read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

std::string error_of(const std::string& path) {
  try {
    datasets::read_idx(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Header for a u8 IDX of `dims`, followed by `payload`.
std::vector<unsigned char> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<unsigned char>& payload) {
  std::vector<unsigned char> b{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

}  // namespace

TEST_F(IdxTest, ReadsPlainAndGzip) {
  const auto bytes = idx_bytes({2, 3}, {1, 2, 3, 4, 5, 255});
  for (bool gz : {false, true}) {
    Tensor t = datasets::read_idx(write(gz ? "a.gz" : "a.idx", bytes, gz));
    EXPECT_EQ(t.dtype(), DType::u8);
    EXPECT_EQ(shape_str(t.shape()), "[2,3]");
    EXPECT_EQ(t.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 3, 4, 5, 255}));
  }
  Tensor empty = datasets::read_idx(write("e.idx", idx_bytes({0, 28}, {})));
  EXPECT_EQ(shape_str(empty.shape()), "[0,28]");
}

TEST_F(IdxTest, RealLabelFile) {
  Tensor y = datasets::read_idx(kRealLabels);
  ASSERT_EQ(shape_str(y.shape()), "[10000]");
  EXPECT_EQ(y.data<uint8_t>()[0], 9);  // first test label of Fashion-MNIST (ankle boot)
}

TEST_F(IdxTest, MalformedHeadersNameTheFile) {
  std::string p = write("short.idx", {0, 0});
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": 2 bytes, too short for the 4-byte IDX magic");
  p = write("magic.idx", {1, 2, 8, 1, 0, 0, 0, 0});
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": bad magic 1020801 (an IDX file starts with two zero bytes)");
  p = write("type.idx", {0, 0, 0x0d, 1, 0, 0, 0, 0});
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": element type 0xd is not supported (only 0x08, unsigned byte)");
  p = write("rank.idx", {0, 0, 8, 9});
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": rank 9 outside 1..4");
  p = write("dims.idx", {0, 0, 8, 3, 0, 0, 0, 1});
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": truncated header (3 dimensions need 12 bytes, found 4)");
  EXPECT_EQ(error_of((dir_ / "absent.gz").string()), "read_idx: " + (dir_ / "absent.gz").string() + ": no such file");
}

TEST_F(IdxTest, SizesMustMatchTheFileLength) {
  std::string p = write("trunc.idx", idx_bytes({2, 3}, {1, 2, 3}));
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": truncated: dimensions [2,3] need 6 bytes of data, found 3");
  p = write("trail.idx", idx_bytes({2, 2}, {1, 2, 3, 4, 5}));
  EXPECT_EQ(error_of(p), "read_idx: " + p + ": trailing data after the 4 bytes that dimensions [2,2] describe");
  // Hostile dimensions are refused before any allocation.
  p = write("huge.idx", idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, {1}));
  EXPECT_EQ(error_of(p), "read_idx: " + p +
                             ": dimensions [4294967295,4294967295,4294967295] describe more bytes than the file can "
                             "hold (17 bytes)");
  p = write("huge.gz", idx_bytes({60000, 28, 28}, {1, 2}), true);
  EXPECT_NE(error_of(p).find("describe more bytes than the file can hold"), std::string::npos) << error_of(p);
}

TEST_F(IdxTest, CorruptGzipCopies) {
  const auto real = read_raw(kRealLabels);
  ASSERT_GT(real.size(), 1000u);
  // Truncated compressed stream.
  std::string p = write("cut.gz", std::vector<unsigned char>(real.begin(), real.begin() + real.size() / 2));
  std::string e = error_of(p);
  EXPECT_EQ(e.rfind("read_idx: " + p + ": ", 0), 0u) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  // A flipped byte in the middle of the deflate data (caught by inflate or the CRC).
  auto flipped = real;
  flipped[flipped.size() / 2] ^= 0x5a;
  p = write("flip.gz", flipped);
  e = error_of(p);
  EXPECT_EQ(e.rfind("read_idx: " + p + ": ", 0), 0u) << e;
}
