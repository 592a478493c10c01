#include "keel/keras/layers/weight_budget.h"

#include "keel/graph/error.h"

namespace keel::keras {
namespace {
thread_local WeightBudget* current = nullptr;
}  // namespace

WeightBudget::WeightBudget(int64_t bytes, std::string source)
    : left_(bytes), source_(std::move(source)), outer_(current) {
  current = this;
}

WeightBudget::~WeightBudget() { current = outer_; }

int64_t weight_bytes(const Shape& shape, int64_t element_size) {
  int64_t bytes = element_size;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(bytes, d, &bytes)) return INT64_MAX;
  }
  return bytes;
}

void charge_weight_budget(const std::string& layer, const std::string& weight, const Shape& shape,
                          int64_t element_size) {
  WeightBudget* b = current;
  if (b == nullptr) return;
  const int64_t bytes = weight_bytes(shape, element_size);
  KEEL_CHECK(bytes <= b->left_, layer, ": weight '", weight, "' ", shape_str(shape), " would take ",
             bytes == INT64_MAX ? std::string("more bytes than int64 counts") : std::to_string(bytes) + " bytes",
             ", more than ", b->source_, " (", b->left_, " bytes left)");
  b->left_ -= bytes;
}

}  // namespace keel::keras
