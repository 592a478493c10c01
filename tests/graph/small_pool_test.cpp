// The small-object pool behind nodes and tensor handles (graph/detail/small_pool.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "keel/graph/detail/small_pool.h"

using namespace keel;

namespace {

struct Block {
  unsigned char* p;
  size_t size;
};

unsigned char pattern(size_t i) { return static_cast<unsigned char>(i * 31 + 7); }

}  // namespace

TEST(SmallPool, EverySizeIsAlignedWritableAndDisjoint) {
  std::vector<Block> blocks;
  // Enough 512-byte blocks to need more than one 2 MiB chunk.
  for (int round = 0; round < 2; ++round)
    for (size_t size = 1; size <= detail::kPoolMaxBlock; ++size)
      blocks.push_back({static_cast<unsigned char*>(detail::pool_allocate(size)), size});
  for (size_t i = 0; i < 2 * (detail::kPoolChunkBytes / detail::kPoolMaxBlock); ++i)
    blocks.push_back({static_cast<unsigned char*>(detail::pool_allocate(detail::kPoolMaxBlock)),
                      detail::kPoolMaxBlock});
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(blocks[i].p) % detail::kPoolGranule, 0u);
    std::memset(blocks[i].p, pattern(i), blocks[i].size);
  }
  std::vector<Block> sorted = blocks;
  std::sort(sorted.begin(), sorted.end(), [](const Block& a, const Block& b) { return a.p < b.p; });
  for (size_t i = 1; i < sorted.size(); ++i) ASSERT_LE(sorted[i - 1].p + sorted[i - 1].size, sorted[i].p);
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(blocks[i].p[0], pattern(i));
    ASSERT_EQ(blocks[i].p[blocks[i].size - 1], pattern(i));
    detail::pool_deallocate(blocks[i].p, blocks[i].size);
  }
}

TEST(SmallPool, FreedBlocksAreReusedWithinTheirSizeClass) {
  void* a = detail::pool_allocate(100);
  detail::pool_deallocate(a, 100);
  void* b = detail::pool_allocate(112);  // 100 and 112 round to the same 16-byte class
  EXPECT_EQ(a, b);
  void* c = detail::pool_allocate(113);  // the next class: not the block just reused
  EXPECT_NE(b, c);
  detail::pool_deallocate(b, 112);
  detail::pool_deallocate(c, 113);
  detail::pool_deallocate(nullptr, 16);  // like delete nullptr
}

TEST(SmallPool, RejectsBlocksLargerThanTheLargestClass) {
  EXPECT_THROW(detail::pool_allocate(detail::kPoolMaxBlock + 1), std::bad_alloc);
}

TEST(SmallPool, BlocksFreedOnAnotherThread) {
  const int threads = 4, per_thread = 20000;
  std::vector<std::vector<Block>> made(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const size_t size = 16 + static_cast<size_t>((i * 7 + t) % 30) * 16;
        auto* p = static_cast<unsigned char*>(detail::pool_allocate(size));
        std::memset(p, t + 1, size);
        made[t].push_back({p, size});
        if (i % 3 == 0) {  // free some of our own as we go
          Block b = made[t][made[t].size() / 2];
          made[t].erase(made[t].begin() + static_cast<std::ptrdiff_t>(made[t].size() / 2));
          for (size_t k = 0; k < b.size; ++k) ASSERT_EQ(b.p[k], t + 1);
          detail::pool_deallocate(b.p, b.size);
        }
      }
    });
  for (auto& w : workers) w.join();
  workers.clear();
  // Each thread frees the blocks the next one made, after checking nobody else wrote to them.
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      const int owner = (t + 1) % threads;
      for (const Block& b : made[owner]) {
        for (size_t k = 0; k < b.size; ++k) ASSERT_EQ(b.p[k], owner + 1);
        detail::pool_deallocate(b.p, b.size);
      }
    });
  for (auto& w : workers) w.join();
}

TEST(SmallPool, AllocateSharedRunsDestructorsAndOutlivesWeakPointers) {
  struct Counted {
    explicit Counted(int* d) : dead(d) {}
    ~Counted() { ++*dead; }
    int* dead;
    double payload[20] = {};
  };
  int dead = 0;
  std::weak_ptr<Counted> weak;
  {
    auto p = std::allocate_shared<Counted>(detail::PoolAllocator<Counted>(), &dead);
    p->payload[19] = 1.5;
    weak = p;
    EXPECT_EQ(weak.lock()->payload[19], 1.5);
  }
  EXPECT_EQ(dead, 1);
  EXPECT_TRUE(weak.expired());  // the control block lives on (pooled) until the weak pointer goes
  weak.reset();
}

TEST(SmallPool, ChildOfForkAllocatesWhileParentThreadsDo) {
  std::atomic<bool> stop{false};
  std::thread busy([&] {  // keeps taking the pool's lock while the main thread forks
    while (!stop) detail::pool_deallocate(detail::pool_allocate(64), 64);
  });
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      void* p = detail::pool_allocate(64);
      detail::pool_deallocate(p, 64);
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  stop = true;
  busy.join();
}
