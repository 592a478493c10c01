// Batches for keras::Trainer: rows of the data arrays (x, y and the sample weights), in order or through
// an epoch's permutation.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "keel/graph/error.h"
#include "keel/graph/generator.h"
#include "keel/keras/trainer.h"

namespace keel::keras {

namespace detail {

namespace {
// gather_rows copies a batch of at least this many bytes on every thread.
constexpr size_t kParallelGatherBytes = size_t{256} << 10;
// ... and prefetches the row this many rows ahead.
constexpr int64_t kPrefetchRows = 2;

size_t row_bytes(const Tensor& x, const char* what) {
  KEEL_CHECK(x.defined() && x.dim() >= 1, what, ": expected a tensor with a batch axis, got ",
             x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  KEEL_CHECK(x.dtype() != DType::string, what, ": string tensors are not supported as model data");
  const int64_t rows = x.size(0);
  return rows == 0 ? 0 : static_cast<size_t>(x.numel() / rows) * dtype_size(x.dtype());
}
Shape with_rows(const Shape& s, int64_t rows) {
  Shape out = s;
  out[0] = rows;
  return out;
}
}  // namespace

Tensor take_rows(const Tensor& x, int64_t begin, int64_t end) {
  const size_t rb = row_bytes(x, "take_rows");
  KEEL_CHECK(0 <= begin && begin <= end && end <= x.size(0), "take_rows: rows [", begin, ", ", end, ") of ",
             shape_str(x.shape()));
  Tensor out = Tensor::uninitialized(with_rows(x.shape(), end - begin), x.dtype());
  if (rb > 0 && end > begin)
    std::memcpy(out.raw_data(), static_cast<const char*>(x.raw_data()) + static_cast<size_t>(begin) * rb,
                static_cast<size_t>(end - begin) * rb);
  return out;
}

Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& index, int64_t begin, int64_t end) {
  const size_t rb = row_bytes(x, "gather_rows");
  Tensor out = Tensor::uninitialized(with_rows(x.shape(), end - begin), x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = begin; i < end; ++i) {
    const int64_t r = index[static_cast<size_t>(i)];
    KEEL_CHECK(0 <= r && r < x.size(0), "gather_rows: row ", r, " of ", shape_str(x.shape()));
  }
  // Scattered rows of a large array miss the cache: a 256-image batch of Fashion-MNIST (800 KB) took
  // an eighth of the training thread's time on one thread, with the other idle. Both threads copy, each
  // prefetching the row it copies two rows later (a third less time per batch on one thread).
  const int64_t rows = end - begin;
  const bool parallel = static_cast<size_t>(rows) * rb >= kParallelGatherBytes && !omp_in_parallel();
  const auto row = [&](int64_t i) { return src + static_cast<size_t>(index[static_cast<size_t>(begin + i)]) * rb; };
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < rows; ++i) {
    if (i + kPrefetchRows < rows) {
      const char* ahead = row(i + kPrefetchRows);
      for (size_t offset = 0; offset < rb; offset += 64) __builtin_prefetch(ahead + offset);
    }
    std::memcpy(dst + static_cast<size_t>(i) * rb, row(i), rb);
  }
  return out;
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int epoch) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  Generator gen(seed);
  gen.set_state({seed, static_cast<uint64_t>(epoch) << 32});
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(i + 1)));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  return perm;
}

int64_t batch_count(int64_t n, int64_t batch_size, int64_t steps) {
  const int64_t all = (n + batch_size - 1) / batch_size;
  return steps > 0 ? std::min(steps, all) : all;
}

std::vector<Tensor> rows_of(const std::vector<Tensor>& xs, const std::vector<int64_t>& index, int64_t begin,
                            int64_t end) {
  std::vector<Tensor> out;
  out.reserve(xs.size());
  for (const Tensor& x : xs) {
    if (!x.defined()) out.emplace_back();
    else out.push_back(index.empty() ? take_rows(x, begin, end) : gather_rows(x, index, begin, end));
  }
  return out;
}

}  // namespace detail

Trainer::Data Trainer::Data::rows(const std::vector<int64_t>& index, int64_t begin, int64_t end) const {
  return Data{detail::rows_of(x, index, begin, end), detail::rows_of(y, index, begin, end),
              detail::rows_of(sample_weight, index, begin, end)};
}

}  // namespace keel::keras
