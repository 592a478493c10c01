// The resume tests' check: two models' weights, optimizer iterations, learning-rate variable and every
// optimizer slot equal bit for bit.
//
//   expect_same_training_state(*uninterrupted, *resumed);
#pragma once

#include <gtest/gtest.h>

#include "keel/keras/model.h"
#include "keel/keras/optimizers/optimizer.h"

namespace keel::keras::testing {

inline void expect_same_training_state(const Model& want, const Model& got) {
  const auto a = want.weights(), b = got.weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].value().equal(b[i].value())) << a[i].name();
  ASSERT_TRUE(want.optimizer() && got.optimizer());
  const Optimizer& oa = *want.optimizer();
  const Optimizer& ob = *got.optimizer();
  EXPECT_EQ(oa.iterations_value(), ob.iterations_value());
  EXPECT_TRUE(oa.learning_rate_variable().value().equal(ob.learning_rate_variable().value()))
      << oa.learning_rate() << " vs " << ob.learning_rate();
  const auto ta = want.trainable_weights(), tb = got.trainable_weights();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    for (const std::string& slot : oa.slot_names()) {
      const Variable sa = oa.get_slot(ta[i], slot), sb = ob.get_slot(tb[i], slot);
      ASSERT_TRUE(sa.defined() && sb.defined()) << ta[i].name() << " " << slot;
      EXPECT_TRUE(sa.value().equal(sb.value())) << ta[i].name() << " slot " << slot;
    }
  }
}

}  // namespace keel::keras::testing
