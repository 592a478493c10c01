// Positional whole-number arguments for the examples that take `[EPOCHS [SEED]]`: anything that is not a
// whole number >= 0 (a flag such as --help, "2x", "-1") prints the usage line and exits 2, instead of
// reading as 0 and running a different experiment.
//
//   const int64_t epochs = positional_arg(argc, argv, 1, 1, "keel-example-keras_cnn [EPOCHS [SEED]]");
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// argv[index] as a whole number, or `fallback` when there are fewer arguments; more arguments than the
// usage names are the caller's to refuse (positional_args_at_most).
inline int64_t positional_arg(int argc, char** argv, int index, int64_t fallback, const char* usage) {
  if (index >= argc) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(argv[index], &end, 10);
  if (end == argv[index] || *end != '\0' || v < 0) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  }
  return v;
}

inline void positional_args_at_most(int argc, char** /*argv*/, int count, const char* usage) {
  if (argc - 1 > count) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  }
}
