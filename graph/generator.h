// Generator: counter-based random numbers (Philox-4x32-10). Its whole state is two integers, the
// seed and the counter, so it checkpoints exactly and replays bit for bit.
//
//   Generator g(42);
//   Tensor w = Tensor::uniform({784, 128}, g, -0.1, 0.1);
//   auto s = g.state();   // {seed, counter}; g.set_state(s) replays the same stream
#pragma once

#include <array>
#include <cstdint>

namespace keel {

class Generator {
 public:
  struct State {
    uint64_t seed = 0;
    uint64_t counter = 0;
    bool operator==(const State& o) const { return seed == o.seed && counter == o.counter; }
  };

  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}

  State state() const { return state_; }
  void set_state(State s) { state_ = s; }
  uint64_t seed() const { return state_.seed; }
  uint64_t counter() const { return state_.counter; }

  // One Philox block: four 32-bit words; advances the counter by one.
  std::array<uint32_t, 4> next_block();
  // Fills `n` 32-bit words (consumes ceil(n/4) blocks).
  void fill_u32(uint32_t* out, int64_t n);
  // Uniform floats in [0, 1) with 24 (f32) or 53 (f64) random bits.
  void fill_uniform(float* out, int64_t n, float low, float high);
  void fill_uniform(double* out, int64_t n, double low, double high);
  // Standard normal via Box-Muller on uniform pairs.
  void fill_normal(float* out, int64_t n, float mean, float stddev);
  void fill_normal(double* out, int64_t n, double mean, double stddev);
  uint32_t next_u32();
  uint64_t next_u64();
  double next_double();  // [0, 1)
  // Uniform integer in [0, n) without modulo bias.
  uint64_t next_below(uint64_t n);

  // The raw Philox function: block `counter` of stream `seed`. Pure.
  static std::array<uint32_t, 4> philox(uint64_t seed, uint64_t counter);

 private:
  State state_;
};

// A default generator for code that is not given one (seeded 0 until keel::manual_seed).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace keel
