// A bound on the bytes of the weights layers create on this thread while a WeightBudget is alive.
// load_model rebuilds a model from a file's config, and every weight of that model is stored in the same
// file, so the file's size bounds them: a config asking for a Dense of 10^12 units fails with an error
// naming the layer and the file, before anything is allocated.
//
//   keras::WeightBudget budget(2 * file_bytes, "twice the 9992 bytes of weights in m.h5 allow");
//   auto model = keras::model_from_json(config);   // a weight past the budget throws keel::Error
#pragma once

#include <cstdint>
#include <string>

#include "keel/graph/shape.h"

namespace keel::keras {

class WeightBudget {
 public:
  WeightBudget(int64_t bytes, std::string source);
  ~WeightBudget();
  WeightBudget(const WeightBudget&) = delete;
  WeightBudget& operator=(const WeightBudget&) = delete;

 private:
  friend void charge_weight_budget(const std::string&, const std::string&, const Shape&, int64_t);
  int64_t left_;
  std::string source_;
  WeightBudget* outer_;
};

// The bytes of a weight of `shape` with elements of `element_size` bytes; INT64_MAX when they overflow int64
// (or a dimension is unknown).
int64_t weight_bytes(const Shape& shape, int64_t element_size);

// Called by Layer before it creates a weight (`layer` as Layer::describe() words it); throws when the
// innermost live budget of this thread cannot pay for shape x element_size bytes. No budget: no limit.
void charge_weight_budget(const std::string& layer, const std::string& weight, const Shape& shape,
                          int64_t element_size);

}  // namespace keel::keras
