// Writer -> reader round trips of every keel dtype, determinism, the commit protocol and writer errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "bundle_test_util.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"
#include "keel/graph/generator.h"

using namespace keel;
using keel::bt::TempDir;

namespace {

std::vector<std::pair<std::string, Tensor>> sample_tensors() {
  std::vector<std::pair<std::string, Tensor>> v;
  v.emplace_back("f32", Tensor::from_vector<float>({1.5f, -2.25f, 3e30f, -0.0f, 7, 8}, {2, 3}));
  v.emplace_back("f64", Tensor::from_vector<double>({1e-300, -4.5, 6.0}, {3, 1}));
  v.emplace_back("i32", Tensor::from_vector<int32_t>({INT32_MIN, -1, 0, INT32_MAX}, {4}));
  v.emplace_back("i64", Tensor::from_vector<int64_t>({INT64_MIN, 42, INT64_MAX}, {3}));
  v.emplace_back("u8", Tensor::from_vector<uint8_t>({0, 1, 127, 255}, {2, 2}));
  v.emplace_back("bool", Tensor::from_vector<bool>({true, false, true}, {3}));
  v.emplace_back("string", Tensor::strings({"", "a", std::string(300, 'x'), std::string("\0\xff", 2)}, {2, 2}));
  v.emplace_back("string_scalar", Tensor::strings({"hello"}, {}));
  v.emplace_back("string_empty", Tensor::strings({}, {0, 3}));
  v.emplace_back("scalar_f32", Tensor::scalar(0.5));
  v.emplace_back("scalar_i64", Tensor::scalar(216, DType::i64));
  v.emplace_back("empty_f32", Tensor::zeros({0}));
  v.emplace_back("empty_2d_i32", Tensor::zeros({3, 0}, DType::i32));
  v.emplace_back("a/b/.ATTRIBUTES/VARIABLE_VALUE", Tensor::arange(0, 1000, 1, DType::f32).view({10, 100}));
  return v;
}

void write_sample(const std::string& prefix) {
  BundleWriter w(prefix);
  for (const auto& [k, t] : sample_tensors()) w.add(k, t);
  w.finish();
}

}  // namespace

TEST(BundleRoundTrip, EveryDtypeStringsEmptiesAndScalars) {
  TempDir dir;
  const std::string prefix = dir / "sub/dir/ckpt-1";  // parent directories are created
  write_sample(prefix);
  BundleReader r(prefix);
  const auto tensors = sample_tensors();
  ASSERT_EQ(r.entries().size(), tensors.size());
  for (const auto& [key, t] : tensors) {
    SCOPED_TRACE(key);
    const BundleEntry& e = r.entry(key);
    EXPECT_EQ(e.dtype, t.dtype());
    EXPECT_EQ(e.tf_dtype, bundle_detail::tf_dtype(t.dtype()));
    EXPECT_EQ(e.shape, t.shape());
    const Tensor back = r.read(key);
    EXPECT_TRUE(back.equal(t));
    EXPECT_TRUE(r.verify(key));
    Tensor into = t.dtype() == DType::string ? Tensor::strings(std::vector<std::string>(t.numel(), "old"), t.shape())
                                             : Tensor::zeros(t.shape(), t.dtype());
    r.read_into(key, into, "round trip");
    EXPECT_TRUE(into.equal(t));
  }
  EXPECT_EQ(tf_dtype_name(r.entry("bool").tf_dtype), "bool");
  EXPECT_EQ(tf_dtype_name(r.entry("u8").tf_dtype), "uint8");
}

TEST(BundleRoundTrip, ByteIdenticalAndNoLeftovers) {
  TempDir a, b;
  write_sample(a / "m");
  write_sample(b / "m");
  for (const char* suffix : {".index", ".data-00000-of-00001"}) {
    EXPECT_EQ(bt::read_bytes(a / (std::string("m") + suffix)), bt::read_bytes(b / (std::string("m") + suffix)))
        << suffix;
  }
  std::vector<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(a.path())) names.push_back(f.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"m.data-00000-of-00001", "m.index"}));
}

// Tensors go through the writer's 4 MiB buffer in 256 KiB pieces (checksummed per piece), with writeback
// started every 8 MiB: with sizes around a piece, tensors larger than the buffer and buffer fills that split
// tensors, the data file is still every tensor's bytes back to back in the order added, each checksum
// verifies, changing a tensor after add() does not change the file, and the same tensors give the same
// bytes again.
TEST(BundleRoundTrip, LargeAndSmallTensorsInterleaved) {
  Generator gen(3);
  std::vector<std::pair<std::string, Tensor>> v;
  v.emplace_back("small_a", Tensor::arange(0, 10));
  v.emplace_back("just_under", Tensor::uniform({65535}, gen));        // 262,140 bytes: one piece
  v.emplace_back("just_over", Tensor::uniform({65537}, gen));         // 262,148 bytes: two pieces
  v.emplace_back("strings", Tensor::strings({"x", std::string(1000, 'y')}, {2}));
  v.emplace_back("nine_mb", Tensor::uniform({3, 786433}, gen));      // > 8 MiB: 3 buffer fills
  v.emplace_back("small_b", Tensor::from_vector<int64_t>({-1, 2}, {2}));
  v.emplace_back("two_mb", Tensor::uniform({512, 1024}, gen, -1, 1));
  auto write = [&](const std::string& prefix) {
    BundleWriter w(prefix);
    for (const auto& [k, t] : v) {
      Tensor copy = t.clone();
      w.add(k, copy);
      if (copy.dtype() != DType::string) copy.fill_(7);  // after add(): must not reach the file
    }
    w.finish();
  };
  TempDir a, b;
  write(a / "m");
  write(b / "m");
  const std::string data = bt::read_bytes(a / "m.data-00000-of-00001");
  EXPECT_EQ(data, bt::read_bytes(b / "m.data-00000-of-00001"));
  EXPECT_EQ(bt::read_bytes(a / "m.index"), bt::read_bytes(b / "m.index"));
  BundleReader r(a / "m");
  int64_t offset = 0;
  for (const auto& [key, t] : v) {
    SCOPED_TRACE(key);
    const BundleEntry& e = r.entry(key);
    EXPECT_EQ(e.offset, offset);
    offset += e.size;
    EXPECT_TRUE(r.read(key).equal(t));
    if (t.dtype() != DType::string) {
      EXPECT_EQ(data.compare(e.offset, e.size, static_cast<const char*>(t.raw_data()), t.nbytes()), 0);
    }
  }
  EXPECT_EQ(offset, static_cast<int64_t>(data.size()));
}

TEST(BundleRoundTrip, HeaderAndLayoutAsTensorFlowWritesThem) {
  TempDir dir;
  {
    BundleWriter w(dir / "m");
    w.add("z", Tensor::scalar(1.0));
    w.add("a", Tensor::scalar(2, DType::i32));
    w.finish();
  }
  // Data in the order added (not key order), no padding.
  const std::string data = bt::read_bytes(dir / "m.data-00000-of-00001");
  ASSERT_EQ(data.size(), 8u);
  BundleReader r(dir / "m");
  EXPECT_EQ(r.entry("z").offset, 0);
  EXPECT_EQ(r.entry("a").offset, 4);
  // The index is the same table tiny_table() builds from the same entries (one block, no compression)
  // except for restart points, so compare what matters: footer magic and the header proto bytes.
  const std::string index = bt::read_bytes(dir / "m.index");
  ASSERT_GE(index.size(), 48u);
  EXPECT_EQ(index.substr(index.size() - 8), std::string("\x57\xfb\x80\x8b\x24\x75\x47\xdb", 8));
  EXPECT_NE(index.find(bt::header_proto(1)), std::string::npos);
}

TEST(BundleRoundTrip, UnfinishedWriterRemovesTempFiles) {
  TempDir dir;
  {
    BundleWriter w(dir / "m");
    w.add("x", Tensor::ones({100}));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(BundleRoundTrip, WriterErrors) {
  TempDir dir;
  BundleWriter w(dir / "m");
  w.add("x", Tensor::ones({2}));
  try {
    w.add("x", Tensor::ones({2}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "BundleWriter " + (dir / "m") + ": key 'x' added twice");
  }
  EXPECT_THROW(w.add("", Tensor::ones({2})), Error);
  EXPECT_THROW(w.add("u", Tensor()), Error);
  w.finish();
  EXPECT_THROW(w.add("y", Tensor::ones({2})), Error);
  EXPECT_THROW(w.finish(), Error);
  EXPECT_THROW(BundleWriter(dir.path() + "/m.index/cannot/be/a/dir/p"), Error);
}
