#include "keel/ops/dnnl.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#include <unordered_map>

namespace keel::dnnl_glue {

Context& context() {
  static Context ctx = [] {
    Context c;
    c.engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
    c.stream = dnnl::stream(c.engine);
    return c;
  }();
  return ctx;
}

dnnl::memory::data_type to_dnnl(DType d) {
  switch (d) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::i32: return dnnl::memory::data_type::s32;
    case DType::u8: return dnnl::memory::data_type::u8;
    default: break;
  }
  KEEL_FAIL("oneDNN: dtype ", dtype_name(d), " has no oneDNN equivalent here");
}

dnnl::memory::dims to_dims(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

dnnl::memory::desc plain_desc(const Shape& s, DType d) {
  if (s.empty()) return dnnl::memory::desc({1}, to_dnnl(d), dnnl::memory::format_tag::a);
  auto st = contiguous_strides(s);
  return dnnl::memory::desc(to_dims(s), to_dnnl(d), dnnl::memory::dims(st.begin(), st.end()));
}

dnnl::memory wrap(const Tensor& t, const dnnl::memory::desc& md) {
  return dnnl::memory(md, context().engine, const_cast<void*>(t.raw_data()));
}
dnnl::memory wrap(const Tensor& t) { return wrap(t, plain_desc(t.shape(), t.dtype())); }

namespace {
struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::any> map;
  int64_t creations = 0;
};
Cache& cache() {
  static Cache c;
  return c;
}
}  // namespace

namespace detail {
std::any* cache_find(const std::string& key) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.map.find(key);
  return it == c.map.end() ? nullptr : &it->second;
}
void cache_insert(const std::string& key, std::any value) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.map.emplace(key, std::move(value));
  ++c.creations;
}
}  // namespace detail

void execute(const dnnl::primitive& prim, const std::unordered_map<int, dnnl::memory>& args) {
  Context& ctx = context();
  prim.execute(ctx.stream, args);
  ctx.stream.wait();
}

dnnl::memory reorder_to(const dnnl::memory& mem, const dnnl::memory::desc& want, const std::string& key) {
  if (mem.get_desc() == want) return mem;
  auto prim = cached<dnnl::reorder>("reorder:" + key, [&] {
    return dnnl::reorder(dnnl::reorder::primitive_desc(context().engine, mem.get_desc(), context().engine, want));
  });
  dnnl::memory out(want, context().engine);
  execute(prim, {{DNNL_ARG_FROM, mem}, {DNNL_ARG_TO, out}});
  return out;
}

std::string dims_key(const dnnl::memory::dims& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(d[i]);
  }
  return s;
}

std::string float_key(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return buf;
}

namespace {
thread_local unsigned saved_csr = 0;
thread_local int flush_depth = 0;
}  // namespace

ScopedFlushDenormals::ScopedFlushDenormals() {
#if defined(__SSE__)
#pragma omp parallel
  {
    if (flush_depth++ == 0) {
      saved_csr = _mm_getcsr();
      _mm_setcsr(saved_csr | 0x8040);  // FTZ | DAZ
    }
  }
#endif
}

ScopedFlushDenormals::~ScopedFlushDenormals() {
#if defined(__SSE__)
#pragma omp parallel
  {
    if (flush_depth > 0 && --flush_depth == 0) _mm_setcsr(saved_csr);
  }
#endif
}

int64_t primitive_creations() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().creations;
}
void clear_cache() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().map.clear();
}

}  // namespace keel::dnnl_glue
