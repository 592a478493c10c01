// The cache of freed tensor buffers (graph/detail/buffer_cache.h): exact sizes from 1 MiB to a quarter
// of the cap are kept and handed out again, the oldest pushed out past the cap; a tensor reuses the
// buffer of a freed tensor of its size, and zeros() still gives zeros there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "keel/graph/detail/buffer_cache.h"
#include "keel/graph/tensor.h"

using namespace keel;
using namespace keel::detail;

namespace {
constexpr size_t kMiB = size_t{1} << 20;

bool cache_on() { return buffer_cache_cap() > 0; }
}  // namespace

TEST(BufferCache, KeepsExactSizesAndHandsThemOutOnce) {
  if (!cache_on()) GTEST_SKIP() << "the buffer cache is off (AddressSanitizer build or KEEL_BUFFER_CACHE_MB=0)";
  buffer_cache_clear();
  EXPECT_EQ(buffer_cache_take(2 * kMiB), nullptr);
  void* a = std::malloc(2 * kMiB);
  ASSERT_TRUE(buffer_cache_give(a, 2 * kMiB));
  EXPECT_EQ(buffer_cache_bytes(), 2 * kMiB);
  EXPECT_EQ(buffer_cache_take(2 * kMiB + 64), nullptr);  // not the same size
  EXPECT_EQ(buffer_cache_take(2 * kMiB), a);
  EXPECT_EQ(buffer_cache_take(2 * kMiB), nullptr);
  EXPECT_EQ(buffer_cache_bytes(), 0u);
  std::free(a);

  // Small blocks and blocks over a quarter of the cap are the caller's to free.
  void* small = std::malloc(kMiB - 1);
  EXPECT_FALSE(buffer_cache_give(small, kMiB - 1));
  std::free(small);
  const size_t big_bytes = buffer_cache_cap() / 4 + 64;
  void* big = std::malloc(big_bytes);
  EXPECT_FALSE(buffer_cache_give(big, big_bytes));
  std::free(big);
  EXPECT_EQ(buffer_cache_bytes(), 0u);
}

TEST(BufferCache, StaysUnderItsCapByPushingOutTheOldest) {
  if (!cache_on()) GTEST_SKIP() << "the buffer cache is off (AddressSanitizer build or KEEL_BUFFER_CACHE_MB=0)";
  buffer_cache_clear();
  const size_t cap = buffer_cache_cap();
  const size_t block = cap / 4;  // the largest it keeps
  std::vector<void*> given;
  for (size_t i = 0; i < 6; ++i) {
    // Sizes one granule apart, so that each block is told from the others by its size.
    const size_t bytes = block - i * 64;
    given.push_back(std::malloc(bytes));
    ASSERT_TRUE(buffer_cache_give(given.back(), bytes));
    EXPECT_LE(buffer_cache_bytes(), cap);
  }
  // The two oldest went (freed by the cache); the four newest are there.
  EXPECT_EQ(buffer_cache_take(block), nullptr);
  EXPECT_EQ(buffer_cache_take(block - 64), nullptr);
  for (size_t i = 2; i < 6; ++i) {
    void* p = buffer_cache_take(block - i * 64);
    EXPECT_EQ(p, given[i]) << i;
    std::free(p);
  }
  EXPECT_EQ(buffer_cache_bytes(), 0u);
}

TEST(BufferCache, ATensorReusesAFreedBufferOfItsSizeAndZerosItWhenAsked) {
  if (!cache_on()) GTEST_SKIP() << "the buffer cache is off (AddressSanitizer build or KEEL_BUFFER_CACHE_MB=0)";
  buffer_cache_clear();
  const Shape shape{512, 1024};  // 2 MiB of f32
  const void* first = nullptr;
  {
    Tensor t = Tensor::full(shape, 7.0);
    first = t.raw_data();
  }
  EXPECT_GT(buffer_cache_bytes(), 0u);
  Tensor again = Tensor::zeros(shape);
  EXPECT_EQ(again.raw_data(), first);
  const std::vector<float> v = again.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], 0.0f) << i;
  EXPECT_EQ(buffer_cache_bytes(), 0u);
  // Another size misses the cache.
  Tensor other = Tensor::zeros({512, 1025});
  EXPECT_NE(other.raw_data(), first);
}
