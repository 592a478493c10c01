// Embedding: gathers rows of a [V, D] table by i32/i64 ids; the gradient scatter-adds into the table.
#include "keel/ops/embedding.h"

#include <cstring>
#include <vector>

#include "keel/graph/node.h"

namespace keel::ops {

namespace {

// Ids as int64, each checked against the table size.
std::vector<int64_t> checked_ids(const Tensor& ids, int64_t rows) {
  std::vector<int64_t> out(static_cast<size_t>(ids.numel()));
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t id = ids.dtype() == DType::i32 ? ids.data<int32_t>()[i] : ids.data<int64_t>()[i];
    KEEL_CHECK(id >= 0 && id < rows, "embedding: id ", id, " is out of range for a table of ", rows, " rows");
    out[static_cast<size_t>(i)] = id;
  }
  return out;
}

}  // namespace

Tensor embedding(const Tensor& table, const Tensor& ids) {
  KEEL_CHECK(table.defined() && ids.defined(), "embedding: table and ids must be defined");
  KEEL_CHECK(table.dim() == 2, "embedding: table must be [V,D], got ", shape_str(table.shape()));
  KEEL_CHECK(is_floating(table.dtype()), "embedding: table must be f32 or f64, got ", dtype_name(table.dtype()));
  KEEL_CHECK(ids.dtype() == DType::i32 || ids.dtype() == DType::i64, "embedding: ids must be i32 or i64, got ",
             dtype_name(ids.dtype()), " ", shape_str(ids.shape()));
  const int64_t rows = table.size(0), d = table.size(1);
  std::vector<int64_t> idx = checked_ids(ids, rows);
  Shape out_shape = ids.shape();
  out_shape.push_back(d);
  Tensor y = Tensor::empty(out_shape, table.dtype());
  const size_t row_bytes = static_cast<size_t>(d) * dtype_size(table.dtype());
  const char* src = static_cast<const char*>(table.raw_data());
  char* dst = static_cast<char*>(y.raw_data());
  for (size_t i = 0; i < idx.size(); ++i)
    if (row_bytes) std::memcpy(dst + i * row_bytes, src + static_cast<size_t>(idx[i]) * row_bytes, row_bytes);
  if (should_record({table})) {
    record("embedding", {table, ids}, y, [idx = std::move(idx), shape = table.shape()](const Tensor& g) {
      Tensor dt = Tensor::zeros(shape, g.dtype());
      const int64_t d = shape[1];
      dispatch_floating(g.dtype(), "embedding backward", [&](auto z) {
        using T = decltype(z);
        const T* pg = g.data<T>();
        T* pt = dt.data<T>();
        for (size_t i = 0; i < idx.size(); ++i) {
          T* row = pt + idx[i] * d;
          const T* gr = pg + static_cast<int64_t>(i) * d;
          for (int64_t k = 0; k < d; ++k) row[k] += gr[k];
        }
      });
      return std::vector<Tensor>{dt, Tensor()};
    });
  }
  return y;
}

}  // namespace keel::ops
