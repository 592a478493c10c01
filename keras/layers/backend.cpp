#include "keel/keras/layers/backend.h"

#include <cctype>
#include <mutex>

#include "keel/graph/generator.h"

namespace keel::keras {
namespace {
struct GlobalState {
  std::mutex mu;
  std::map<std::string, int64_t> counters;
  uint64_t base_seed = 0;
  uint64_t seed_index = 0;
};
GlobalState& state() {
  static GlobalState s;
  return s;
}
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace backend {

std::string to_snake_case(const std::string& name) {
  // re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', name), simulated: matches do not overlap and each one
  // consumes its preceding character, the capital and the run of lowercase letters or digits.
  std::string step1;
  size_t pos = 0;
  while (pos < name.size()) {
    if (pos + 2 < name.size() && is_upper(name[pos + 1]) &&
        (is_lower(name[pos + 2]) || is_digit(name[pos + 2]))) {
      size_t end = pos + 2;
      while (end < name.size() && (is_lower(name[end]) || is_digit(name[end]))) ++end;
      step1 += name[pos];
      step1 += '_';
      step1 += name.substr(pos + 1, end - pos - 1);
      pos = end;
    } else {
      step1 += name[pos++];
    }
  }
  // re.sub('([a-z])([A-Z])', r'\1_\2', ...).lower()
  std::string out;
  for (size_t i = 0; i < step1.size(); ++i) {
    if (i > 0 && is_lower(step1[i - 1]) && is_upper(step1[i])) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(step1[i])));
  }
  if (!out.empty() && out[0] == '_') out = "private" + out;
  return out;
}

std::string unique_object_name(const std::string& prefix, bool zero_based) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  int64_t& n = s.counters[prefix];
  std::string name;
  if (zero_based) {
    name = n == 0 ? prefix : prefix + "_" + std::to_string(n);
  } else {
    name = prefix + "_" + std::to_string(n + 1);
  }
  ++n;
  return name;
}

void clear_session() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.counters.clear();
}

uint64_t next_seed() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return mix_seed(s.base_seed, s.seed_index++);
}

NameScope::NameScope() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  saved_.swap(s.counters);
}

NameScope::~NameScope() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.counters.swap(saved_);
}

}  // namespace backend

namespace utils {
void set_random_seed(uint64_t seed) {
  {
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.base_seed = seed;
    s.seed_index = 0;
  }
  keel::manual_seed(seed);
}
}  // namespace utils

}  // namespace keel::keras
