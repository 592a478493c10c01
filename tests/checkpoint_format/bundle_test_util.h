// Helpers for the bundle tests: temp dirs, file bytes, fixture paths, and a hand-written encoder of
// entry protos and single-block LevelDB tables (independent of LevelDB and protobuf, to craft files
// keel's writer would never produce).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "keel/checkpoint/bundle.h"

namespace keel::bt {

inline std::string fixture(const std::string& rel) { return std::string(KEEL_SHARED_DIR) + "/fixtures/" + rel; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp") + std::string("/keel_bundle_XXXXXX");
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline void fixed32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

// Protobuf wire encoding of the fields we need.
inline void pb_varint(std::string* out, int field, uint64_t v) {
  varint(out, static_cast<uint64_t>(field) << 3);
  varint(out, v);
}
inline void pb_bytes(std::string* out, int field, const std::string& b) {
  varint(out, static_cast<uint64_t>(field) << 3 | 2);
  varint(out, b.size());
  out->append(b);
}

inline std::string header_proto(int num_shards, int endianness = 0, int min_consumer = 0) {
  std::string version, h;
  pb_varint(&version, 1, 1);
  if (min_consumer) pb_varint(&version, 2, static_cast<uint64_t>(min_consumer));
  pb_varint(&h, 1, static_cast<uint64_t>(static_cast<int64_t>(num_shards)));
  if (endianness) pb_varint(&h, 2, static_cast<uint64_t>(endianness));
  pb_bytes(&h, 3, version);
  return h;
}

inline std::string entry_proto(int dtype, const std::vector<int64_t>& dims, int64_t offset, int64_t size,
                               uint32_t masked_crc, int shard = 0) {
  std::string shape, e;
  for (int64_t d : dims) {
    std::string dim;
    pb_varint(&dim, 1, static_cast<uint64_t>(d));
    pb_bytes(&shape, 2, dim);
  }
  pb_varint(&e, 1, static_cast<uint64_t>(dtype));
  pb_bytes(&e, 2, shape);
  if (shard) pb_varint(&e, 3, static_cast<uint64_t>(shard));
  if (offset) pb_varint(&e, 4, static_cast<uint64_t>(offset));
  if (size) pb_varint(&e, 5, static_cast<uint64_t>(size));
  varint(&e, 6 << 3 | 5);
  fixed32(&e, masked_crc);
  return e;
}

// A LevelDB table with one data block holding `kv` (already sorted; restart at every entry). With
// `index_block`, the index block is what it returns given the last key + "\xff" and the data block's
// handle (a hand-made block, trailer excluded).
inline std::string tiny_table(
    const std::vector<std::pair<std::string, std::string>>& kv,
    const std::function<std::string(const std::string&, const std::string&)>& index_block = nullptr) {
  auto block = [](const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string b;
    std::vector<uint32_t> restarts;
    for (const auto& [k, v] : entries) {
      restarts.push_back(static_cast<uint32_t>(b.size()));
      varint(&b, 0);
      varint(&b, k.size());
      varint(&b, v.size());
      b += k;
      b += v;
    }
    if (restarts.empty()) restarts.push_back(0);
    for (uint32_t r : restarts) fixed32(&b, r);
    fixed32(&b, static_cast<uint32_t>(restarts.size()));
    return b;
  };
  std::string file;
  auto emit = [&](const std::string& b) {
    const uint64_t off = file.size();
    file += b;
    file.push_back('\0');
    fixed32(&file, crc32c_mask(crc32c(file.data() + off, b.size() + 1)));
    std::string handle;
    varint(&handle, off);
    varint(&handle, b.size());
    return handle;
  };
  const std::string data_handle = emit(block(kv));
  const std::string meta_handle = emit(block({}));
  const std::string last_key = kv.empty() ? std::string() : kv.back().first + "\xff";
  const std::string index_handle =
      emit(index_block ? index_block(last_key, data_handle) : block({{last_key, data_handle}}));
  std::string footer = meta_handle + index_handle;
  footer.resize(40, '\0');
  fixed32(&footer, 0x8b80fb57u);
  fixed32(&footer, 0xdb477524u);
  return file + footer;
}

}  // namespace keel::bt
