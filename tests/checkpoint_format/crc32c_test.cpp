// CRC32C: known vectors, hardware vs table agreement, TF masking, and the fixtures' stored checksums.
#include <gtest/gtest.h>

#include <string>

#include "bundle_test_util.h"
#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"

using namespace keel;

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; i++) inc[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c(inc.data(), inc.size()), 0x46DD794Eu);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string s;
  for (int i = 0; i < 1000; i++) s.push_back(static_cast<char>(i * 7 + 3));
  for (size_t cut : {0, 1, 7, 8, 9, 63, 500, 999, 1000}) {
    EXPECT_EQ(crc32c_extend(crc32c(s.data(), cut), s.data() + cut, s.size() - cut), crc32c(s.data(), s.size()))
        << "cut at " << cut;
  }
}

TEST(Crc32c, HardwareAndTableAgree) {
  std::string s;
  for (int i = 0; i < 50000; i++) s.push_back(static_cast<char>(i * 131 + 17));
  for (size_t start = 0; start < 9; start++)  // every alignment
    for (size_t n : {0, 1, 3, 8, 15, 64, 4000, 12287, 12288, 12295, 40000}) {  // 3 x 4096: striped path
      EXPECT_EQ(crc32c_extend(0x1234, s.data() + start, n),
                detail::crc32c_extend_portable(0x1234, s.data() + start, n));
    }
}

TEST(Crc32c, MaskRoundTripsAndDiffers) {
  for (uint32_t v : {0u, 1u, 0xE3069283u, 0xffffffffu, 0xa282ead8u}) {
    EXPECT_EQ(crc32c_unmask(crc32c_mask(v)), v);
    EXPECT_NE(crc32c_mask(v), v);
  }
  EXPECT_EQ(crc32c_mask(0), 0xa282ead8u);
  EXPECT_EQ(crc32c_mask(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

// The masked checksums TensorFlow stored in the fixtures' entries match the bytes in their data files.
TEST(Crc32c, FixtureEntriesVerify) {
  const std::string prefix = bt::fixture("saved_models/half_plus_three_tf1/variables/variables");
  const std::string data = bt::read_bytes(prefix + ".data-00000-of-00001");
  BundleReader r(prefix);
  ASSERT_EQ(r.entries().size(), 3u);
  for (const auto& [key, e] : r.entries()) {
    ASSERT_LE(e.offset + e.size, static_cast<int64_t>(data.size()));
    EXPECT_EQ(crc32c_mask(crc32c(data.data() + e.offset, e.size)), e.masked_crc32c) << key;
  }
}
