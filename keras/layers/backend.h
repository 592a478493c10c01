// Keras's global bookkeeping: unique layer names and the random seed sequence.
//
//   keras::backend::clear_session();                 // names start again: "dense", "dense_1", ...
//   keras::utils::set_random_seed(42);               // layers built after this draw the same weights
//   { keras::backend::NameScope scope; ... }         // fresh counters inside, previous ones restored after
//
// Names follow Keras: the snake_case of the class name ("Conv2D" -> "conv2d", "MaxPooling2D" ->
// "max_pooling2d"), then "_1", "_2", ... per prefix. Each layer takes one seed from a deterministic
// sequence when it is constructed (utils::set_random_seed resets the sequence), and derives the
// generators of its initializers and of its dropout from that seed, so weights depend only on the
// order in which layers are constructed, not on when they are built.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace keel::keras {

namespace backend {
// Keras's generic_utils.to_snake_case.
std::string to_snake_case(const std::string& class_name);
// "dense", then "dense_1", ... (zero_based); "input_1", "input_2", ... otherwise.
std::string unique_object_name(const std::string& prefix, bool zero_based = true);
// Forgets every name counter, as tf.keras.backend.clear_session() does.
void clear_session();
// The next seed of the layer seed sequence.
uint64_t next_seed();

// Saves the name counters, starts from none, and restores them on destruction.
class NameScope {
 public:
  NameScope();
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

 private:
  std::map<std::string, int64_t> saved_;
};
}  // namespace backend

namespace utils {
// Resets the layer seed sequence to `seed` (and keel::manual_seed(seed) for the default generator).
void set_random_seed(uint64_t seed);
}  // namespace utils

// Mixes two integers into a seed (splitmix64 finalizer); pure.
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace keel::keras
