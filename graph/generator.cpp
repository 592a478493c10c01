#include "keel/graph/generator.h"

#include <omp.h>

#include <cmath>

#include "keel/graph/detail/isa_dispatch.h"
#include "keel/graph/error.h"

namespace keel {

namespace {

// fill_uniform splits at least this many Philox blocks (4 values each) over the threads.
constexpr int64_t kParallelBlocks = 2048;

// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), inlinable so that
// fill_uniform's loop over counters vectorizes.
struct Block {
  uint32_t w[4];
};
inline Block philox_block(uint64_t seed, uint64_t counter) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kM0} * c0, p1 = uint64_t{kM1} * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kW0; k1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

}  // namespace

std::array<uint32_t, 4> Generator::philox(uint64_t seed, uint64_t counter) {
  const Block b = philox_block(seed, counter);
  return {b.w[0], b.w[1], b.w[2], b.w[3]};
}

std::array<uint32_t, 4> Generator::next_block() { return philox(state_.seed, state_.counter++); }

void Generator::fill_u32(uint32_t* out, int64_t n) {
  int64_t i = 0;
  while (i < n) {
    auto b = next_block();
    for (int k = 0; k < 4 && i < n; ++k) out[i++] = b[k];
  }
}

uint32_t Generator::next_u32() { return next_block()[0]; }
uint64_t Generator::next_u64() {
  auto b = next_block();
  return (uint64_t{b[0]} << 32) | b[1];
}
double Generator::next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Generator::next_below(uint64_t n) {
  KEEL_CHECK(n > 0, "Generator::next_below: n must be positive");
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = next_u64(); while (v >= limit);
  return v % n;
}

void Generator::fill_uniform(float* out, int64_t n, float low, float high) {
  // Whole blocks: block j is philox(seed, counter + j), its four words elements 4j..4j+3, computed for
  // many counters at once (vectorized, best ISA); the same values as one next_block() after another.
  const int64_t blocks = n > 0 ? n / 4 : 0;
  const uint64_t seed = state_.seed, first = state_.counter;
  const float span = high - low;
  const auto fill_blocks = [&](int64_t begin, int64_t end) {
    keel::detail::run_best_isa(
        [&](int64_t b0, int64_t b1) {
#pragma omp simd
          for (int64_t j = b0; j < b1; ++j) {
            const Block b = philox_block(seed, first + static_cast<uint64_t>(j));
            for (int k = 0; k < 4; ++k) out[4 * j + k] = low + span * (static_cast<float>(b.w[k] >> 8) * 0x1.0p-24f);
          }
        },
        begin, end);
  };
  // Counter-based: block j depends on j alone, so the threads' ranges give the same values as one
  // thread. A dropout mask of 256x128 (8k blocks, ~40 us on one core) already gains from the split.
  const int threads = omp_get_max_threads();
  if (blocks >= kParallelBlocks && threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      fill_blocks(blocks * t / nt, blocks * (t + 1) / nt);
    }
  } else {
    fill_blocks(0, blocks);
  }
  state_.counter += static_cast<uint64_t>(blocks);
  int64_t i = 4 * blocks;
  while (i < n) {
    auto b = next_block();
    for (int k = 0; k < 4 && i < n; ++k) {
      const float u = static_cast<float>(b[k] >> 8) * 0x1.0p-24f;
      out[i++] = low + (high - low) * u;
    }
  }
}

void Generator::fill_uniform(double* out, int64_t n, double low, double high) {
  int64_t i = 0;
  while (i < n) {
    auto b = next_block();
    for (int k = 0; k < 4 && i < n; k += 2) {
      const uint64_t bits = ((uint64_t{b[k]} << 32) | b[k + 1]) >> 11;
      out[i++] = low + (high - low) * (static_cast<double>(bits) * 0x1.0p-53);
    }
  }
}

namespace {
template <class T>
void box_muller(Generator& g, T* out, int64_t n, T mean, T stddev) {
  int64_t i = 0;
  while (i < n) {
    auto b = g.next_block();
    const double u1 = (static_cast<double>(((uint64_t{b[0]} << 32) | b[1]) >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = static_cast<double>(((uint64_t{b[2]} << 32) | b[3]) >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double th = 2.0 * M_PI * u2;
    out[i++] = static_cast<T>(mean + stddev * r * std::cos(th));
    if (i < n) out[i++] = static_cast<T>(mean + stddev * r * std::sin(th));
  }
}
}  // namespace

void Generator::fill_normal(float* out, int64_t n, float mean, float stddev) { box_muller(*this, out, n, mean, stddev); }
void Generator::fill_normal(double* out, int64_t n, double mean, double stddev) { box_muller(*this, out, n, mean, stddev); }

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().set_state({seed, 0}); }

}  // namespace keel
