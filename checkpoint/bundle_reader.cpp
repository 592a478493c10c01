// BundleReader: PREFIX.index through LevelDB's table API (after table_check.cpp has bounded every block
// handle), tensor bytes with pread from PREFIX.data-NNNNN-of-MMMMM, every checksum verified.
#include <fcntl.h>
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"
#include "keel/checkpoint/proto/tensor_bundle.pb.h"

namespace keel {
namespace {

constexpr int kMaxShards = 99999;  // the file names have five digits
constexpr size_t kChunk = 8 << 20;

std::string data_filename(const std::string& prefix, int shard, int num_shards) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard, num_shards);
  return prefix + buf;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

void pread_all(int fd, char* p, size_t n, int64_t off, const std::string& where) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, off);
    if (got < 0 && errno == EINTR) continue;
    KEEL_CHECK(got > 0, where, ": read failed at offset ", off, ": ", got < 0 ? std::strerror(errno) : "end of file");
    p += got;
    n -= static_cast<size_t>(got);
    off += got;
  }
}

BundleEntry decode_entry(const std::string& key, const std::string& value, int num_shards,
                         const std::string& index) {
  tf::BundleEntryProto p;
  KEEL_CHECK(p.ParseFromString(value), index, ": key '", key, "': value is not a BundleEntryProto");
  BundleEntry e;
  e.key = key;
  e.tf_dtype = p.dtype();
  e.dtype = bundle_detail::keel_dtype(e.tf_dtype);
  KEEL_CHECK(!p.shape().unknown_rank(), index, ": key '", key, "': shape has unknown rank");
  for (const auto& d : p.shape().dim()) e.shape.push_back(d.size());
  for (int64_t d : e.shape)
    KEEL_CHECK(d >= 0, index, ": key '", key, "': shape ", shape_str(e.shape), " has a negative dimension");
  int64_t numel = 1;
  for (int64_t d : e.shape)
    KEEL_CHECK(!__builtin_mul_overflow(numel, d, &numel), index, ": key '", key, "': shape ",
               shape_str(e.shape), " has more elements than int64 can count");
  e.shard_id = p.shard_id();
  e.offset = p.offset();
  e.size = p.size();
  e.masked_crc32c = p.crc32c();
  e.sliced = p.slices_size() > 0;
  if (!e.sliced) {
    KEEL_CHECK(e.shard_id >= 0 && e.shard_id < num_shards, index, ": key '", key, "': shard ", e.shard_id,
               " is not among the ", num_shards, " shards");
    KEEL_CHECK(e.offset >= 0 && e.size >= 0 && e.offset <= INT64_MAX - e.size, index, ": key '", key,
               "': bad byte range offset ", e.offset, " size ", e.size);
  }
  return e;
}

// A fixed-size dtype's entry holds exactly its shape's bytes (checked before anything is allocated).
void check_entry_size(const BundleEntry& e, const std::string& where) {
  const auto esize = static_cast<int64_t>(bundle_detail::tf_dtype_size(e.tf_dtype));
  const int64_t numel = checked_numel(e.shape, "bundle entry");
  int64_t need = 0;
  KEEL_CHECK(!__builtin_mul_overflow(numel, esize, &need) && need == e.size, where, ": ", tf_dtype_name(e.tf_dtype),
             " ", shape_str(e.shape), " does not fit the ", e.size, " bytes of the entry");
}

}  // namespace

struct BundleReader::Impl {
  int num_shards = 1;
  std::map<std::string, BundleEntry> entries;
  mutable std::mutex mu;
  mutable std::map<int, std::pair<int, int64_t>> files;  // shard -> (fd, size)

  ~Impl() {
    for (auto& [shard, f] : files) ::close(f.first);
  }
  // Opens a data file once; returns (fd, file size).
  std::pair<int, int64_t> data_file(const std::string& prefix, int shard) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = files.find(shard);
    if (it != files.end()) return it->second;
    const std::string path = data_filename(prefix, shard, num_shards);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    KEEL_CHECK(fd >= 0, path, ": cannot open data file: ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      KEEL_FAIL(path, ": cannot stat data file: ", std::strerror(errno));
    }
    return files[shard] = {fd, static_cast<int64_t>(st.st_size)};
  }
};

BundleReader::BundleReader(std::string prefix) : prefix_(std::move(prefix)), impl_(std::make_unique<Impl>()) {
  const std::string index = prefix_ + ".index";
  leveldb::Env* env = leveldb::Env::Default();
  uint64_t file_size = 0;
  leveldb::Status s = env->GetFileSize(index, &file_size);
  KEEL_CHECK(s.ok(), index, ": cannot open bundle index: ", s.ToString());
  leveldb::RandomAccessFile* raw_file = nullptr;
  s = env->NewRandomAccessFile(index, &raw_file);
  KEEL_CHECK(s.ok(), index, ": cannot open bundle index: ", s.ToString());
  std::unique_ptr<leveldb::RandomAccessFile> file(raw_file);
  bundle_detail::check_table_layout(file.get(), file_size, index);

  leveldb::Options options;
  options.paranoid_checks = true;  // also verifies the index block's checksum on open
  leveldb::Table* raw_table = nullptr;
  s = leveldb::Table::Open(options, file.get(), file_size, &raw_table);
  KEEL_CHECK(s.ok(), index, ": ", s.ToString());
  std::unique_ptr<leveldb::Table> table(raw_table);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));
  it->SeekToFirst();
  KEEL_CHECK(it->status().ok(), index, ": ", it->status().ToString());
  KEEL_CHECK(it->Valid() && it->key().empty(), index, ": the header entry (empty key) is missing");
  tf::BundleHeaderProto header;
  KEEL_CHECK(header.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())), index,
             ": header is not a BundleHeaderProto");
  impl_->num_shards = header.num_shards();
  KEEL_CHECK(impl_->num_shards >= 1 && impl_->num_shards <= kMaxShards, index, ": header says ",
             impl_->num_shards, " shards (expected 1 to ", kMaxShards, ")");
  KEEL_CHECK(header.endianness() == tf::BundleHeaderProto::LITTLE, index,
             ": bundle is big-endian; keel reads little-endian bundles only");
  KEEL_CHECK(header.version().min_consumer() <= 1, index, ": bundle needs a reader of version >= ",
             header.version().min_consumer(), " (keel reads version 1)");
  for (int bad : header.version().bad_consumers())
    KEEL_CHECK(bad != 1, index, ": bundle marks reader version 1 as a bad consumer");
  std::string last;
  for (it->Next(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    KEEL_CHECK(key > last, index, ": keys are not strictly increasing at '", key, "'");
    impl_->entries.emplace(key, decode_entry(key, it->value().ToString(), impl_->num_shards, index));
    last = std::move(key);
  }
  KEEL_CHECK(it->status().ok(), index, ": ", it->status().ToString());
}

BundleReader::~BundleReader() = default;

int BundleReader::num_shards() const { return impl_->num_shards; }
const std::map<std::string, BundleEntry>& BundleReader::entries() const { return impl_->entries; }
bool BundleReader::contains(const std::string& key) const { return impl_->entries.count(key) > 0; }

const BundleEntry& BundleReader::entry(const std::string& key) const {
  auto it = impl_->entries.find(key);
  KEEL_CHECK(it != impl_->entries.end(), prefix_, ".index: no key '", key, "' in the bundle");
  return it->second;
}

void BundleReader::read_into(const std::string& key, Tensor& dst, const std::string& what) const {
  const BundleEntry& e = entry(key);
  const std::string index = prefix_ + ".index";
  KEEL_CHECK(!e.sliced, index, ": key '", key, "' is a sliced (partitioned) variable; keel does not read slices");
  KEEL_CHECK(e.dtype.has_value(), index, ": key '", key, "' has dtype ", tf_dtype_name(e.tf_dtype),
             ", which keel cannot hold");
  KEEL_CHECK(dst.defined(), what, ": key '", key, "' in ", prefix_, ": destination tensor is undefined");
  KEEL_CHECK(dst.dtype() == *e.dtype && dst.shape() == e.shape, what, ": key '", key, "' in ", prefix_,
             " holds ", dtype_name(*e.dtype), " ", shape_str(e.shape), ", destination is ",
             dtype_name(dst.dtype()), " ", shape_str(dst.shape()));
  const std::string path = data_filename(prefix_, e.shard_id, impl_->num_shards);
  const auto [fd, file_size] = impl_->data_file(prefix_, e.shard_id);
  const std::string where = path + ": key '" + key + "'";
  KEEL_CHECK(e.offset <= file_size && e.size <= file_size - e.offset, where, ": bytes [", e.offset, ", ",
             e.offset + e.size, ") lie past the end of the ", file_size, "-byte data file");
  if (*e.dtype == DType::string) {
    std::string bytes(static_cast<size_t>(e.size), '\0');
    pread_all(fd, bytes.data(), bytes.size(), e.offset, where);
    Tensor t = bundle_detail::decode_strings(bytes.data(), bytes.size(), e.shape, e.masked_crc32c, where);
    dst.bump_version();
    for (int64_t i = 0; i < t.numel(); i++) dst.str(i) = std::move(t.str(i));
    return;
  }
  check_entry_size(e, where);
  const int64_t numel = dst.numel();
  dst.bump_version();
  char* out = static_cast<char*>(dst.raw_data());
  uint32_t crc = 0;
  for (int64_t done = 0; done < e.size;) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kChunk, e.size - done));
    pread_all(fd, out + done, n, e.offset + done, where);
    crc = crc32c_extend(crc, out + done, n);
    done += static_cast<int64_t>(n);
  }
  KEEL_CHECK(crc32c_mask(crc) == e.masked_crc32c, where, ": checksum does not match: stored ",
             hex32(e.masked_crc32c), ", computed ", hex32(crc32c_mask(crc)));
  if (*e.dtype == DType::boolean) {  // any nonzero byte is true; keep keel's bools 0 or 1
    auto* b = reinterpret_cast<uint8_t*>(out);
    for (int64_t i = 0; i < numel; i++) b[i] = b[i] != 0;
  }
}

bool BundleReader::verify(const std::string& key) const {
  const BundleEntry& e = entry(key);
  if (e.sliced) return false;
  const std::string path = data_filename(prefix_, e.shard_id, impl_->num_shards);
  const auto [fd, file_size] = impl_->data_file(prefix_, e.shard_id);
  const std::string where = path + ": key '" + key + "'";
  KEEL_CHECK(e.offset <= file_size && e.size <= file_size - e.offset, where, ": bytes [", e.offset, ", ",
             e.offset + e.size, ") lie past the end of the ", file_size, "-byte data file");
  if (e.tf_dtype == bundle_detail::kTfString) {  // the checksum covers the lengths as integers: decode
    (void)read(key);
    return true;
  }
  if (bundle_detail::tf_dtype_size(e.tf_dtype) == 0) return false;
  check_entry_size(e, where);
  std::vector<char> buf(static_cast<size_t>(std::min<int64_t>(kChunk, e.size)));
  uint32_t crc = 0;
  for (int64_t done = 0; done < e.size;) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kChunk, e.size - done));
    pread_all(fd, buf.data(), n, e.offset + done, where);
    crc = crc32c_extend(crc, buf.data(), n);
    done += static_cast<int64_t>(n);
  }
  KEEL_CHECK(crc32c_mask(crc) == e.masked_crc32c, where, ": checksum does not match: stored ",
             hex32(e.masked_crc32c), ", computed ", hex32(crc32c_mask(crc)));
  return true;
}

Tensor BundleReader::read(const std::string& key) const {
  const BundleEntry& e = entry(key);
  const std::string index = prefix_ + ".index";
  KEEL_CHECK(!e.sliced, index, ": key '", key, "' is a sliced (partitioned) variable; keel does not read slices");
  KEEL_CHECK(e.dtype.has_value(), index, ": key '", key, "' has dtype ", tf_dtype_name(e.tf_dtype),
             ", which keel cannot hold");
  // Bound the allocation by the entry's size before making the tensor (the shape alone may be huge).
  if (*e.dtype != DType::string) {
    check_entry_size(e, data_filename(prefix_, e.shard_id, impl_->num_shards) + ": key '" + key + "'");
  } else {
    KEEL_CHECK(checked_numel(e.shape, "bundle entry") <= e.size, data_filename(prefix_, e.shard_id, impl_->num_shards),
               ": key '", key, "': string tensor ", shape_str(e.shape), " cannot fit in ", e.size, " bytes");
  }
  const auto [fd, file_size] = impl_->data_file(prefix_, e.shard_id);
  (void)fd;
  KEEL_CHECK(e.offset <= file_size && e.size <= file_size - e.offset,
             data_filename(prefix_, e.shard_id, impl_->num_shards), ": key '", key, "': bytes [", e.offset, ", ",
             e.offset + e.size, ") lie past the end of the ", file_size, "-byte data file");
  Tensor t = Tensor::uninitialized(e.shape, *e.dtype);  // read_into writes every byte or throws
  read_into(key, t, "BundleReader::read");
  return t;
}

}  // namespace keel
