// Real TensorFlow bundles in /work/shared/fixtures: every one lists and verifies, known values match.
#include <gtest/gtest.h>

#include <filesystem>

#include "bundle_test_util.h"
#include "keel/checkpoint/bundle.h"

using namespace keel;
using keel::bt::fixture;

namespace {

std::string sm(const std::string& name) { return fixture("saved_models/" + name + "/variables/variables"); }
std::string attr(const std::string& path) { return path + "/.ATTRIBUTES/VARIABLE_VALUE"; }

std::vector<std::string> all_fixture_prefixes() {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(fixture(""))) {
    const std::string p = f.path().string();
    if (p.size() > 6 && p.compare(p.size() - 6, 6, ".index") == 0) out.push_back(p.substr(0, p.size() - 6));
  }
  return out;
}

}  // namespace

TEST(BundleFixtures, EveryBundleListsAndVerifies) {
  const auto prefixes = all_fixture_prefixes();
  ASSERT_EQ(prefixes.size(), 13u);  // 2 checkpoints, 4 SavedModels, 7 tfjs SavedModels
  for (const std::string& p : prefixes) {
    SCOPED_TRACE(p);
    BundleReader r(p);
    EXPECT_EQ(r.num_shards(), 1);
    ASSERT_FALSE(r.entries().empty());
    for (const auto& [key, e] : r.entries()) {
      ASSERT_TRUE(e.dtype.has_value()) << key << " " << tf_dtype_name(e.tf_dtype);
      EXPECT_FALSE(e.sliced);
      EXPECT_TRUE(r.verify(key));
      const Tensor t = r.read(key);
      EXPECT_EQ(t.shape(), e.shape);
      EXPECT_EQ(t.dtype(), *e.dtype);
    }
  }
}

TEST(BundleFixtures, HalfPlusTwoSnappyIndex) {
  // Its .index data block is snappy-compressed (block type byte 1 before the trailer CRC).
  BundleReader r(sm("half_plus_two_tf2"));
  EXPECT_EQ(r.entries().size(), 4u);
  EXPECT_EQ(r.read(attr("a")).item<float>(), 0.5f);
  EXPECT_EQ(r.read(attr("b")).item<float>(), 2.0f);
  EXPECT_EQ(r.read(attr("c")).item<float>(), 3.0f);
  const Tensor g = r.read("_CHECKPOINTABLE_OBJECT_GRAPH");
  EXPECT_EQ(g.dtype(), DType::string);
  EXPECT_EQ(g.shape(), Shape{});
  EXPECT_EQ(g.str(0).size(), 619u - 2 - 4);  // varint length (2 bytes) + masked length crc (4 bytes)
}

TEST(BundleFixtures, Tf1NameBasedKeys) {
  BundleReader r(sm("half_plus_three_tf1"));
  EXPECT_EQ(r.read("a").item<float>(), 0.5f);
  EXPECT_EQ(r.read("b").item<float>(), 3.0f);
  EXPECT_EQ(r.read("c").item<float>(), 3.0f);
  EXPECT_FALSE(r.contains("_CHECKPOINTABLE_OBJECT_GRAPH"));
  BundleReader c(sm("counter_tf1"));
  ASSERT_EQ(c.entries().size(), 1u);
  EXPECT_EQ(c.read("counter").item<float>(), 0.0f);
  EXPECT_EQ(c.entry("counter").dtype, DType::f32);
}

TEST(BundleFixtures, TicTacToeCounters) {
  BundleReader r(fixture("tf_checkpoints/tictactoe/ckpt-18"));
  const Tensor it = r.read(attr("net/optimizer/_iterations"));
  EXPECT_EQ(it.dtype(), DType::i64);
  EXPECT_EQ(it.item<int64_t>(), 216);
  EXPECT_EQ(r.read(attr("save_counter")).item<int64_t>(), 18);
  EXPECT_EQ(r.read(attr("step")).dtype(), DType::i32);
  EXPECT_EQ(r.read(attr("step")).item<int32_t>(), 1);
  EXPECT_FLOAT_EQ(r.read(attr("net/optimizer/_learning_rate")).item<float>(), 0.001f);
  EXPECT_EQ(r.entry(attr("net/layer_with_weights-0/kernel")).shape, (Shape{9, 9}));
  for (int i = 1; i <= 8; i++) EXPECT_TRUE(r.contains(attr("net/optimizer/_variables/" + std::to_string(i))));
  BundleReader r19(fixture("tf_checkpoints/tictactoe/ckpt-19"));
  EXPECT_EQ(r19.read(attr("save_counter")).item<int64_t>(), 19);
}

TEST(BundleFixtures, BasicRegressionOlderOptimizerLayout) {
  BundleReader r(sm("basic_regression_dnn"));
  EXPECT_EQ(r.read(attr("optimizer/iter")).item<int64_t>(), 2100);
  EXPECT_EQ(r.read(attr("layer_with_weights-0/count")).item<int64_t>(), 824);
  EXPECT_FLOAT_EQ(r.read(attr("optimizer/beta_1")).item<float>(), 0.9f);
  EXPECT_FLOAT_EQ(r.read(attr("optimizer/beta_2")).item<float>(), 0.999f);
  EXPECT_EQ(r.read(attr("optimizer/decay")).item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(r.read(attr("optimizer/learning_rate")).item<float>(), 0.001f);
  EXPECT_EQ(r.entry(attr("layer_with_weights-0/mean")).shape, Shape{8});
  EXPECT_EQ(r.entry(attr("layer_with_weights-2/kernel/.OPTIMIZER_SLOT/optimizer/m")).shape, (Shape{64, 64}));
  EXPECT_EQ(r.entry(attr("layer_with_weights-3/kernel")).shape, (Shape{64, 1}));
}

TEST(BundleFixtures, TfjsIntegerValues) {
  EXPECT_EQ(BundleReader(sm("tfjs/times_three_float")).read(attr("v")).item<float>(), 3.0f);
  const Tensor v = BundleReader(sm("tfjs/times_two_int")).read(attr("v"));
  EXPECT_EQ(v.dtype(), DType::i32);
  EXPECT_EQ(v.item<int32_t>(), 2);
  BundleReader i64(sm("tfjs/int64_multiply"));
  EXPECT_EQ(i64.read(attr("v1")).dtype(), DType::i64);
  EXPECT_EQ(i64.read(attr("v1")).item<int64_t>(), 3);
  EXPECT_EQ(i64.read(attr("v2")).item<int64_t>(), 2);
  BundleReader u8(sm("tfjs/uint8_multiply"));
  EXPECT_EQ(u8.read(attr("v1")).dtype(), DType::i32);
  EXPECT_EQ(u8.read(attr("v1")).item<int32_t>(), 3);
  EXPECT_EQ(u8.read(attr("v2")).item<int32_t>(), 2);
  BundleReader sig(sm("tfjs/module_with_multiple_signatures"));
  EXPECT_EQ(sig.read(attr("v")).item<float>(), 3.0f);
  EXPECT_EQ(sig.read(attr("two")).item<float>(), 2.0f);
  for (const char* m : {"tfjs/model_multi_output", "tfjs/model_single_input_multi_output"}) {
    BundleReader r(sm(m));
    EXPECT_EQ(r.read(attr("v")).item<float>(), 3.0f);
    EXPECT_EQ(r.read(attr("two")).dtype(), DType::i32);
    EXPECT_EQ(r.read(attr("two")).item<int32_t>(), 2);
  }
}

TEST(BundleFixtures, ReadIntoChecksShapeAndDtype) {
  BundleReader r(fixture("tf_checkpoints/tictactoe/ckpt-18"));
  const std::string key = attr("net/layer_with_weights-0/kernel");
  Tensor dst = Tensor::zeros({9, 9});
  r.read_into(key, dst, "Dense kernel");
  EXPECT_TRUE(dst.equal(r.read(key)));
  Tensor wrong = Tensor::zeros({9, 8});
  try {
    r.read_into(key, wrong, "Dense kernel");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "Dense kernel: key '" + key + "' in " + r.prefix() +
                                         " holds f32 [9,9], destination is f32 [9,8]");
  }
  Tensor wrong_dtype = Tensor::zeros({9, 9}, DType::f64);
  EXPECT_THROW(r.read_into(key, wrong_dtype, "Dense kernel"), Error);
  try {
    r.read("no/such/key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), r.prefix() + ".index: no key 'no/such/key' in the bundle");
  }
}
