// Internal to checkpoint/ (reader, writer, keel-ckpt, fuzzers): dtype mapping, varints, the DT_STRING
// encoding of tensor bundles (FORMATS.md §1.4) and the LevelDB table layout check.
//
//   std::string bytes;  uint32_t crc = bundle_detail::encode_strings(t, &bytes);   // crc unmasked
//   Tensor s = bundle_detail::decode_strings(p, n, shape, "P.data-00000-of-00001: key 'k'");
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "keel/graph/tensor.h"

namespace leveldb {
class RandomAccessFile;
}

namespace keel {
namespace detail {
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n);  // table version, for tests
}

namespace bundle_detail {

constexpr int kTfString = 7;
constexpr int kTfVariant = 21;

std::optional<DType> keel_dtype(int tf_dtype);  // empty for dtypes keel cannot hold
int tf_dtype(DType d);
// Bytes per element of a fixed-size TF dtype; 0 for string, variant, resource and unknown values.
size_t tf_dtype_size(int tf_dtype);

void put_varint64(std::string* out, uint64_t v);
// Decodes a varint64 at p[*pos] within [0, n); false when truncated or longer than 10 bytes.
bool get_varint64(const char* p, size_t n, size_t* pos, uint64_t* v);

// Appends the on-disk bytes of a string tensor; returns the (unmasked) CRC32C the entry stores masked.
uint32_t encode_strings(const Tensor& t, std::string* out);
// Decodes `n` bytes holding a string tensor of `shape`; checks every length against the bytes there
// are, the length checksum and the overall `masked_crc` (entry.crc32c). `where` prefixes errors.
Tensor decode_strings(const char* p, size_t n, const Shape& shape, uint32_t masked_crc,
                      const std::string& where);

// Checks a LevelDB table's footer, index block and block handles before LevelDB reads it (LevelDB
// allocates what a block handle says before checking it against the file). Throws naming `path`.
void check_table_layout(leveldb::RandomAccessFile* file, uint64_t file_size, const std::string& path);

}  // namespace bundle_detail
}  // namespace keel
