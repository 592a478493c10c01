// A tensor whose memory cannot be allocated is a keel::AllocationError naming its shape, dtype and bytes
// (it escaped as a bare std::bad_alloc). The child process caps its address space so that the attempt
// fails wherever the test runs.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>

#include "keel/graph/error.h"
#include "keel/graph/tensor.h"

using namespace keel;

namespace {

void allocate_in_capped_process() {
  const rlim_t cap = rlim_t{16} << 30;
  const rlimit r{cap, cap};
  setrlimit(RLIMIT_AS, &r);
  try {
    Tensor::zeros({int64_t{1} << 40});
  } catch (const AllocationError& e) {
    std::cerr << e.what();
    std::exit(0);
  }
  std::exit(1);
}

}  // namespace

TEST(AllocationErrorDeathTest, NamesTheShapeDtypeAndBytes) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer aborts on allocations it cannot serve";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(allocate_in_capped_process(), ::testing::ExitedWithCode(0),
              "Tensor: cannot allocate 4398046511104 bytes for \\[1099511627776\\] f32");
#endif
}
