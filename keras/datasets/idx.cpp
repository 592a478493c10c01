#include "keel/keras/datasets/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace keel::datasets {

namespace {

// Deflate cannot compress better than about 1032:1; a gzip file of S bytes inflates to at most this.
constexpr uint64_t kMaxInflateRatio = 1032;
constexpr int kMaxRank = 4;

class GzReader {
 public:
  GzReader(const std::string& path) : path_(path) {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    KEEL_CHECK(f_ != nullptr, "read_idx: ", path, ": cannot open (",
               errno ? std::strerror(errno) : "out of memory", ")");
    gzbuffer(f_, 1 << 17);
  }
  ~GzReader() { gzclose(f_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes; returns how many it got (fewer only at the end of the data).
  uint64_t read(void* dst, uint64_t n) {
    uint64_t got = 0;
    auto* p = static_cast<unsigned char*>(dst);
    while (got < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<uint64_t>(n - got, 1u << 30));
      const int r = gzread(f_, p + got, chunk);
      if (r < 0) fail_stream();
      if (r == 0) break;
      got += static_cast<uint64_t>(r);
    }
    // A truncated gzip stream reports itself only through gzerror.
    int err = Z_OK;
    gzerror(f_, &err);
    if (err != Z_OK && err != Z_STREAM_END) fail_stream();
    return got;
  }

 private:
  [[noreturn]] void fail_stream() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    KEEL_FAIL("read_idx: ", path_, ": corrupt or truncated gzip stream (", msg ? msg : "unknown zlib error", ")");
  }
  std::string path_;
  gzFile f_ = nullptr;
};

bool is_gzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[2] = {0, 0};
  in.read(reinterpret_cast<char*>(m), 2);
  return in.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

Tensor read_idx(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  KEEL_CHECK(std::filesystem::exists(status), "read_idx: ", path, ": no such file");
  KEEL_CHECK(std::filesystem::is_regular_file(status), "read_idx: ", path, ": not a regular file");
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  KEEL_CHECK(!ec, "read_idx: ", path, ": cannot read its size (", ec.message(), ")");
  const bool gz = is_gzip(path);
  const uint64_t max_payload = gz ? file_size * kMaxInflateRatio : file_size;

  GzReader in(path);
  unsigned char head[4];
  uint64_t got = in.read(head, 4);
  KEEL_CHECK(got == 4, "read_idx: ", path, ": ", got, " bytes, too short for the 4-byte IDX magic");
  KEEL_CHECK(head[0] == 0 && head[1] == 0, "read_idx: ", path, ": bad magic ", std::hex, big_endian(head),
             " (an IDX file starts with two zero bytes)");
  KEEL_CHECK(head[2] == 0x08, "read_idx: ", path, ": element type 0x", std::hex, int{head[2]},
             " is not supported (only 0x08, unsigned byte)");
  const int rank = head[3];
  KEEL_CHECK(rank >= 1 && rank <= kMaxRank, "read_idx: ", path, ": rank ", rank, " outside 1..", kMaxRank);

  unsigned char dim_bytes[4 * kMaxRank];
  got = in.read(dim_bytes, 4 * static_cast<uint64_t>(rank));
  KEEL_CHECK(got == 4 * static_cast<uint64_t>(rank), "read_idx: ", path, ": truncated header (", rank,
             " dimensions need ", 4 * rank, " bytes, found ", got, ")");
  Shape shape;
  uint64_t payload = 1;
  bool too_big = false;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = big_endian(dim_bytes + 4 * i);
    shape.push_back(d);
    if (d != 0 && payload > std::numeric_limits<uint64_t>::max() / d) too_big = true;
    else payload *= d;
  }
  KEEL_CHECK(!too_big && payload <= max_payload, "read_idx: ", path, ": dimensions ", shape_str(shape),
             " describe more bytes than the file can hold (", file_size, gz ? " bytes compressed)" : " bytes)");

  Tensor out = Tensor::empty(shape, DType::u8);
  got = in.read(out.raw_data(), payload);
  KEEL_CHECK(got == payload, "read_idx: ", path, ": truncated: dimensions ", shape_str(shape), " need ", payload,
             " bytes of data, found ", got);
  unsigned char extra;
  KEEL_CHECK(in.read(&extra, 1) == 0, "read_idx: ", path, ": trailing data after the ", payload,
             " bytes that dimensions ", shape_str(shape), " describe");
  return out;
}

}  // namespace keel::datasets
