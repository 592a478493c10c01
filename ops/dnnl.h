// All oneDNN glue in one place: the CPU engine and stream, memory wrapping of keel tensors, dtype
// mapping, and a primitive cache keyed by a string of shapes, dtypes and attributes so that repeating
// a step builds no new primitive.
//
//   auto& ctx = dnnl_glue::context();
//   auto prim = dnnl_glue::cached<dnnl::matmul>(key, [&] { return dnnl::matmul(pd); });
//   dnnl_glue::primitive_creations();   // counter for tests and benchmarks
//
// Only .cpp files in ops/ include this header (it pulls in dnnl.hpp).
#pragma once

#include <dnnl.hpp>

#include <any>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "keel/graph/tensor.h"

namespace keel::dnnl_glue {

struct Context {
  dnnl::engine engine;
  dnnl::stream stream;
};
Context& context();

dnnl::memory::data_type to_dnnl(DType d);  // f32, f64 (where supported), i32, u8; throws otherwise
dnnl::memory::dims to_dims(const Shape& s);
// A plain row-major memory descriptor for shape/dtype.
dnnl::memory::desc plain_desc(const Shape& s, DType d);
// Wraps a tensor's storage (no copy).
dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& md);
dnnl::memory wrap(const Tensor& t);

// Returns the cached object for `key`, creating it with `make` the first time (counted).
// Cached objects are any copyable oneDNN handle type (primitives, primitive descriptors).
template <class T>
T cached(const std::string& key, const std::function<T()>& make);

// Executes `prim` on the context stream and waits for it.
void execute(const dnnl::primitive& prim, const std::unordered_map<int, dnnl::memory>& args);
// `mem` itself when its descriptor is already `want`; otherwise a new memory in `want` filled by a
// reorder cached under "reorder:" + key (the key must identify both descriptors).
dnnl::memory reorder_to(const dnnl::memory& mem, const dnnl::memory::desc& want, const std::string& key);
// "2x3x4" for key strings.
std::string dims_key(const dnnl::memory::dims& d);
// A float attribute (alpha, beta, epsilon) for key strings: its exact bit pattern in hex, so two values
// that differ in any bit never share a primitive (std::to_string keeps 6 decimals: 1e-7 and 0 collide).
std::string float_key(float v);

// Flushes subnormal floats to zero (x86 FTZ + DAZ) on this thread and the OpenMP team for its lifetime,
// as TensorFlow's CPU kernels do. Recurrent gradients shrink through time into subnormals, which make
// every later matmul an order of magnitude slower.
class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals();
  ~ScopedFlushDenormals();
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;
};

int64_t primitive_creations();  // how many objects `cached` has created so far
void clear_cache();

namespace detail {
std::any* cache_find(const std::string& key);
void cache_insert(const std::string& key, std::any value);
}  // namespace detail

template <class T>
T cached(const std::string& key, const std::function<T()>& make) {
  if (std::any* hit = detail::cache_find(key)) return std::any_cast<T>(*hit);
  T made = make();
  detail::cache_insert(key, made);
  return made;
}

}  // namespace keel::dnnl_glue
