// KEEL_TRAIN_ARG: a chainable option with a getter, for the training half's option structs.
//
//   struct AdamOptions {
//     KEEL_TRAIN_ARG(AdamOptions, double, beta_1, 0.9)
//   };
//   AdamOptions().beta_1(0.8).beta_1();   // 0.8
#pragma once

#include <utility>

#define KEEL_TRAIN_ARG(Self, T, name, init)      \
 public:                                         \
  Self& name(T value) {                          \
    name##_ = std::move(value);                  \
    return *this;                                \
  }                                              \
  T const& name() const { return name##_; }      \
                                                 \
 private:                                        \
  T name##_ = init;                              \
                                                 \
 public:
