// Fuzzes BundleReader on a hostile PREFIX.index + PREFIX.data-00000-of-00001 written to a tmpfs dir.
// Any outcome but a keel::Error or a successful read is a bug (crash, leak, UB, other exception).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"

namespace {

std::string dir() {
  static const std::string d = [] {
    std::string t = "/dev/shm/keel_fuzz_index_XXXXXX";
    if (!::mkdtemp(t.data())) std::abort();
    return t;
  }();
  return d;
}

void write_file(const std::string& path, const char* p, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (n) std::fwrite(p, 1, n, f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t pos = 0;
  uint64_t index_len = 0;
  if (!keel::bundle_detail::get_varint64(p, size, &pos, &index_len) || index_len > size - pos) return 0;
  const std::string prefix = dir() + "/b";
  write_file(prefix + ".index", p + pos, index_len);
  write_file(prefix + ".data-00000-of-00001", p + pos + index_len, size - pos - index_len);
  try {
    keel::BundleReader r(prefix);
    for (const auto& [key, e] : r.entries()) {
      try {
        r.verify(key);
        if (e.dtype && !e.sliced) {
          keel::Tensor t = r.read(key);
          if (t.shape() != e.shape) std::abort();
        }
      } catch (const keel::Error&) {
      }
    }
  } catch (const keel::Error&) {
  }
  return 0;
}
