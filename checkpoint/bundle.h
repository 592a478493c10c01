// Tensor bundles: TensorFlow's checkpoint layout (PREFIX.index + PREFIX.data-00000-of-00001).
// See checkpoint/FORMAT.md for the bytes.
//
//   BundleWriter w("/tmp/ckpt/model-1");          // streams tensors into a temporary data file
//   w.add("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE", kernel);
//   w.finish();                                   // fsync data, build + fsync index, rename (index last), fsync dir
//
//   BundleReader r("/tmp/ckpt/model-1");          // verifies footer magic and block checksums
//   for (auto& [key, e] : r.entries()) std::cout << key << " " << shape_str(e.shape) << "\n";
//   Tensor k = r.read("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE");   // verifies the tensor's CRC32C
//
// Every failure is a keel::Error naming the file, the key and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"

namespace keel {

// What the index says about one key.
struct BundleEntry {
  std::string key;
  int tf_dtype = 0;               // TensorFlow DataType enum value as stored (1 = DT_FLOAT, ...)
  std::optional<DType> dtype;     // keel's dtype, or empty when keel cannot hold it (variant, half, ...)
  Shape shape;
  int32_t shard_id = 0;
  int64_t offset = 0;
  int64_t size = 0;
  uint32_t masked_crc32c = 0;
  bool sliced = false;            // partitioned variable (slices are not supported; reported by key)
};

std::string tf_dtype_name(int tf_dtype);  // "float", "int64", "variant", ... as TensorFlow names them

class BundleWriter {
 public:
  explicit BundleWriter(std::string prefix);
  ~BundleWriter();  // an unfinished writer removes its temporary files
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // Copies the tensor's bytes into the data file's 4 MB buffer (written out whenever full) and checksums
  // the copy before returning, so the tensor may change afterwards. Keys must be unique.
  void add(const std::string& key, const Tensor& t);
  // Makes the bundle durable and visible: the index rename is the commit point.
  void finish();
  const std::string& prefix() const { return prefix_; }

 private:
  struct Impl;
  std::string prefix_;
  std::unique_ptr<Impl> impl_;
};

class BundleReader {
 public:
  explicit BundleReader(std::string prefix);
  ~BundleReader();
  BundleReader(const BundleReader&) = delete;
  BundleReader& operator=(const BundleReader&) = delete;

  const std::string& prefix() const { return prefix_; }
  int num_shards() const;
  // Sorted by key; excludes the header entry "".
  const std::map<std::string, BundleEntry>& entries() const;
  bool contains(const std::string& key) const;
  const BundleEntry& entry(const std::string& key) const;  // throws naming the key and the file
  // Reads and checks one tensor (size, dtype/shape fit, CRC32C).
  Tensor read(const std::string& key) const;
  // Reads into an existing tensor of the same shape and dtype (no extra allocation);
  // a mismatch throws naming `what`, the key and both shapes/dtypes.
  void read_into(const std::string& key, Tensor& dst, const std::string& what) const;
  // Checks the entry's bytes against its CRC32C (throws on a mismatch), also for fixed-size dtypes keel
  // cannot hold (half, int16, ...). Returns false, having checked only that the bytes lie inside the data
  // file, where keel does not know how the checksum is formed (variant, resource) or for sliced entries.
  bool verify(const std::string& key) const;

 private:
  struct Impl;
  std::string prefix_;
  std::unique_ptr<Impl> impl_;
};

// CRC32C (Castagnoli) and TensorFlow's masking.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }
uint32_t crc32c_mask(uint32_t crc);
uint32_t crc32c_unmask(uint32_t masked);

}  // namespace keel
