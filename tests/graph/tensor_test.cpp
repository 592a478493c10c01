#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "keel/graph/generator.h"
#include "keel/graph/tensor.h"
#include "keel/graph/threads.h"
#include "keel/graph/variable.h"

using namespace keel;

TEST(Tensor, FactoriesAndAccess) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_EQ(z.at<float>({1, 2}), 0.f);
  Tensor o = Tensor::ones({4}, DType::i64);
  EXPECT_EQ(o.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 1, 1}));
  Tensor f = Tensor::full({2}, 2.5, DType::f64);
  EXPECT_EQ(f.at<double>({1}), 2.5);
  Tensor a = Tensor::arange(0, 5);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  Tensor v = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(v.at<int32_t>({1, 0}), 4);
  EXPECT_EQ(Tensor::scalar(7, DType::i64).item<int64_t>(), 7);
  Tensor s = Tensor::strings({"a", "bc"}, {2});
  EXPECT_EQ(s.str(1), "bc");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(z.raw_data()) % 64, 0u);
}

TEST(Tensor, UninitializedHasShapeAndWritableStorage) {
  for (const Shape& shape : {Shape{}, Shape{0}, Shape{3}, Shape{1024, 1024}}) {
    Tensor t = Tensor::uninitialized(shape, DType::f32);
    EXPECT_EQ(t.shape(), shape);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
    t.fill_(2.5);
    if (t.numel() > 0) {
      EXPECT_EQ(t.data<float>()[t.numel() - 1], 2.5f);
    }
  }
  Tensor s = Tensor::uninitialized({2}, DType::string);  // strings are still constructed (empty)
  EXPECT_EQ(s.str(1), "");
  EXPECT_TRUE(Tensor::full({3}, 7, DType::i32).equal(Tensor::from_vector<int32_t>({7, 7, 7})));
}

// The VmFlags of the mapping that holds `addr`, from /proc/self/smaps ("" when not found).
static std::string vm_flags_at(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const auto a = reinterpret_cast<uintptr_t>(addr);
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= a && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(Tensor, LargeBuffersAskForTransparentHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled"))
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  if (std::getenv("KEEL_THP_MIN_MB") != nullptr) GTEST_SKIP() << "KEEL_THP_MIN_MB moves the threshold";
  Tensor big = Tensor::zeros({10 << 20}, DType::f32);  // 40 MiB: at least the 32 MiB threshold
  const std::string flags = vm_flags_at(big.data<float>() + (5 << 20));
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the tensor's data";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << "40 MiB tensor's mapping: " << flags;
  EXPECT_EQ(big.data<float>()[(10 << 20) - 1], 0.0f);
  // Below the threshold the buffer keeps 4 KiB pages (malloc serves 16 MiB from a mapping of its own or
  // from the heap, neither of which keel advises).
  Tensor mid = Tensor::zeros({4 << 20}, DType::f32);  // 16 MiB
  const std::string mid_flags = vm_flags_at(mid.data<float>() + (2 << 20));
  ASSERT_FALSE(mid_flags.empty());
  EXPECT_EQ((mid_flags + " ").find(" hg "), std::string::npos) << "16 MiB tensor's mapping: " << mid_flags;
}

TEST(Tensor, Int64ItemIsExact) {
  const int64_t big = (int64_t{1} << 62) + 1;
  EXPECT_EQ(Tensor::from_vector<int64_t>({big}).item<int64_t>(), big);
}

TEST(Tensor, CopyAliasesCloneCopies) {
  Tensor a = Tensor::zeros({3});
  Tensor b = a;
  b.data<float>()[0] = 5;
  EXPECT_EQ(a.data<float>()[0], 5);
  Tensor c = a.clone();
  c.data<float>()[0] = 1;
  EXPECT_EQ(a.data<float>()[0], 5);
  EXPECT_TRUE(a.same_storage(b));
  EXPECT_FALSE(a.same_storage(c));
}

TEST(Tensor, Errors) {
  EXPECT_THROW(Tensor::zeros({2}).data<double>(), Error);
  try {
    Tensor::from_vector<float>({1, 2, 3}, {2, 2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Tensor::from_vector: 3 values for shape [2,2] (4 elements)");
  }
  try {
    Tensor::zeros({int64_t{1} << 40, int64_t{1} << 40});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Tensor: element count of shape [1099511627776,1099511627776] overflows int64");
  }
  EXPECT_THROW(Tensor::zeros({-1}), Error);
  EXPECT_THROW(Tensor::zeros({2}).at<float>({2}), Error);
  EXPECT_THROW(Tensor().shape(), Error);
}

TEST(Tensor, PrintingIsReadable) {
  Tensor v = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(v.to_string(), "Tensor([[1, 2], [3, 4]], shape=[2,2], dtype=f32)");
  Tensor big = Tensor::arange(0, 100, 1, DType::i32);
  EXPECT_EQ(big.to_string(), "Tensor([0, 1, 2, ..., 97, 98, 99], shape=[100], dtype=i32)");
}

TEST(Tensor, ConvertAndEqual) {
  Tensor v = Tensor::from_vector<float>({1.5f, -2.f});
  Tensor i = v.to(DType::i32);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{1, -2}));
  EXPECT_TRUE(v.equal(v.clone()));
  EXPECT_FALSE(v.equal(i));
}

TEST(Generator, CounterBasedAndReplayable) {
  Generator g(42);
  auto s0 = g.state();
  Tensor a = Tensor::uniform({1000}, g, -1, 1);
  auto s1 = g.state();
  EXPECT_EQ(s1.counter, 250u);  // 4 words per block
  g.set_state(s0);
  Tensor b = Tensor::uniform({1000}, g, -1, 1);
  EXPECT_TRUE(a.equal(b));
  double mean = 0;
  for (float x : a.to_vector<float>()) {
    EXPECT_GE(x, -1.f);
    EXPECT_LT(x, 1.f);
    mean += x;
  }
  EXPECT_NEAR(mean / 1000, 0.0, 0.1);
  Generator other(43);
  EXPECT_FALSE(Tensor::uniform({8}, other).equal(Tensor::uniform({8}, g)));
  Tensor n = Tensor::normal({20000}, g, 0, 2, DType::f64);
  double m = 0, v = 0;
  for (double x : n.to_vector<double>()) m += x;
  m /= 20000;
  for (double x : n.to_vector<double>()) v += (x - m) * (x - m);
  EXPECT_NEAR(m, 0, 0.05);
  EXPECT_NEAR(std::sqrt(v / 20000), 2, 0.05);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(g.next_below(7), 7u);
}

TEST(Generator, PhiloxKnownAnswer) {
  // Random123's published known-answer test for philox4x32_10, counter 0 and key 0.
  auto b = Generator::philox(0, 0);
  EXPECT_EQ(b[0], 0x6627e8d5u);
  EXPECT_EQ(b[1], 0xe169c58du);
  EXPECT_EQ(b[2], 0xbc57ac4cu);
  EXPECT_EQ(b[3], 0x9b00dbd8u);
}

// fill_uniform computes whole blocks many counters at a time; the values must be those of one
// philox block after another (element 4j + k is word k of block counter + j), and the counter must
// advance by one per block begun, the partial last one included. Large fills split the blocks over the
// threads (from 2048 blocks): the same values on one thread and on two.
TEST(Generator, FillUniformIsTheSequentialBlockStream) {
  const int threads = keel::get_num_threads();
  for (int t : {1, 2}) {
    keel::set_num_threads(t);
    for (int64_t n : {0, 1, 3, 4, 5, 4099, 8191, 8192, 40000, 40003}) {
      Generator g(12345);
      g.set_state({12345, 77});
      std::vector<float> got(static_cast<size_t>(n));
      g.fill_uniform(got.data(), n, -2.f, 3.f);
      for (int64_t i = 0; i < n; ++i) {
        const auto b = Generator::philox(12345, 77 + static_cast<uint64_t>(i / 4));
        const float u = static_cast<float>(b[static_cast<size_t>(i % 4)] >> 8) * 0x1.0p-24f;
        ASSERT_EQ(got[static_cast<size_t>(i)], -2.f + (3.f - -2.f) * u) << "threads=" << t << " n=" << n << " i=" << i;
      }
      EXPECT_EQ(g.counter(), 77u + static_cast<uint64_t>((n + 3) / 4)) << "n=" << n;
    }
  }
  keel::set_num_threads(threads);
}

TEST(Variable, AssignInPlaceAndChecksShape) {
  Variable w("kernel", Tensor::zeros({2, 2}));
  Tensor view = w.value();
  w.assign(Tensor::ones({2, 2}));
  EXPECT_EQ(view.at<float>({1, 1}), 1.f);
  EXPECT_TRUE(w.value().requires_grad());
  try {
    w.assign(Tensor::ones({3}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Variable 'kernel': variable has [2,2] f32, value has [3] f32");
  }
  Variable step("iterations", Tensor::scalar(0, DType::i64), false);
  EXPECT_FALSE(step.value().requires_grad());
}

TEST(Tensor, ArangeRefusesNonFiniteAndHugeRanges) {
  auto error_of = [](double start, double stop) {
    try {
      Tensor::arange(start, stop);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_of(0, 1e30), "arange(0, 1e+30, 1): 1e+30 elements is more than a tensor can hold");
  EXPECT_EQ(error_of(0, std::nan("")), "arange(0, nan, 1): start, stop and step must be finite");
  EXPECT_EQ(Tensor::arange(0, 2.5).to_vector<float>(), (std::vector<float>{0, 1, 2}));
}
