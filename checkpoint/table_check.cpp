// Structural check of a LevelDB table (FORMATS.md §1.2) before LevelDB's Table API reads it.
// LevelDB's ReadBlock allocates `handle.size + 5` bytes before checking the handle against the file
// (and the sum can wrap), and snappy allocates the uncompressed length a block claims; a hostile
// .index could therefore make it allocate without bound or read out of range. This walks the footer
// and the index block and checks every block handle and snappy length against the file.
#include <leveldb/env.h>
#include <leveldb/slice.h>
#include <snappy.h>

#include <cstring>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/bundle_format.h"

namespace keel::bundle_detail {
namespace {

constexpr uint64_t kFooterSize = 48;
constexpr uint64_t kTrailerSize = 5;
constexpr uint64_t kMagic = 0xdb4775248b80fb57ull;

struct Handle {
  uint64_t offset = 0, size = 0;
};

std::string read_at(leveldb::RandomAccessFile* file, uint64_t offset, size_t n, const std::string& path) {
  std::string buf(n, '\0');
  leveldb::Slice got;
  leveldb::Status s = file->Read(offset, n, &got, buf.data());
  KEEL_CHECK(s.ok(), path, ": ", s.ToString());
  KEEL_CHECK(got.size() == n, path, ": short read of ", n, " bytes at offset ", offset);
  return std::string(got.data(), got.size());
}

Handle decode_handle(const std::string& b, size_t* pos, const std::string& path, const char* what) {
  Handle h;
  KEEL_CHECK(get_varint64(b.data(), b.size(), pos, &h.offset) && get_varint64(b.data(), b.size(), pos, &h.size),
             path, ": malformed ", what, " block handle");
  return h;
}

void check_handle(const Handle& h, uint64_t limit, const std::string& path, const char* what) {
  KEEL_CHECK(h.offset <= limit && h.size <= limit && kTrailerSize <= limit &&
                 h.offset + h.size <= limit - kTrailerSize,
             path, ": ", what, " block [", h.offset, ", +", h.size, ") lies past the end of the table (",
             limit, " bytes before the footer)");
}

// Reads a block, checks its trailer CRC and returns its contents (uncompressed).
std::string read_block(leveldb::RandomAccessFile* file, const Handle& h, const std::string& path,
                       const char* what) {
  std::string raw = read_at(file, h.offset, h.size + kTrailerSize, path);
  uint32_t stored = 0;
  std::memcpy(&stored, raw.data() + h.size + 1, 4);
  const uint32_t actual = crc32c(raw.data(), h.size + 1);
  KEEL_CHECK(crc32c_unmask(stored) == actual, path, ": ", what, " block checksum mismatch");
  const auto type = static_cast<uint8_t>(raw[h.size]);
  raw.resize(h.size);
  if (type == 0) return raw;
  KEEL_CHECK(type == 1, path, ": ", what, " block has unknown compression type ", int(type));
  size_t ulen = 0;
  KEEL_CHECK(snappy::GetUncompressedLength(raw.data(), raw.size(), &ulen) && ulen <= 32 * raw.size() + 64,
             path, ": ", what, " block has a corrupt snappy header");
  std::string out;
  KEEL_CHECK(snappy::Uncompress(raw.data(), raw.size(), &out), path, ": ", what, " block: corrupt snappy data");
  return out;
}

}  // namespace

void check_table_layout(leveldb::RandomAccessFile* file, uint64_t file_size, const std::string& path) {
  KEEL_CHECK(file_size >= kFooterSize, path, ": file is too short to be a table (", file_size,
             " bytes; the footer alone is 48)");
  const std::string footer = read_at(file, file_size - kFooterSize, kFooterSize, path);
  uint32_t lo = 0, hi = 0;
  std::memcpy(&lo, footer.data() + 40, 4);
  std::memcpy(&hi, footer.data() + 44, 4);
  KEEL_CHECK((static_cast<uint64_t>(hi) << 32 | lo) == kMagic, path,
             ": not an sstable (bad magic number)");
  size_t pos = 0;
  const uint64_t limit = file_size - kFooterSize;
  const Handle meta = decode_handle(footer, &pos, path, "metaindex");
  const Handle index = decode_handle(footer, &pos, path, "index");
  check_handle(meta, limit, path, "metaindex");
  check_handle(index, limit, path, "index");

  const std::string block = read_block(file, index, path, "index");
  KEEL_CHECK(block.size() >= 4, path, ": index block is too short");
  uint32_t num_restarts = 0;
  std::memcpy(&num_restarts, block.data() + block.size() - 4, 4);
  KEEL_CHECK(num_restarts <= (block.size() - 4) / 4, path, ": index block has a corrupt restart array");
  const size_t end = block.size() - 4 - 4 * static_cast<size_t>(num_restarts);
  // LevelDB starts reading the block at its restart points, not at byte 0 (SeekToFirst goes to the
  // first restart point, Seek bisects them), so every restart point must be an entry checked below:
  // the first at byte 0 and each one the start of an entry that shares no key prefix. Otherwise a
  // restart point in the middle of a value shows LevelDB entries, and block handles, never checked.
  std::vector<uint32_t> restarts(num_restarts);
  if (num_restarts > 0) std::memcpy(restarts.data(), block.data() + end, 4 * static_cast<size_t>(num_restarts));
  KEEL_CHECK(num_restarts == 0 ? end == 0 : restarts[0] == 0, path,
             ": index block's first restart point is not its first entry");
  size_t next_restart = 0;
  pos = 0;
  while (pos < end) {
    const size_t entry = pos;
    uint64_t shared = 0, unshared = 0, vlen = 0;
    KEEL_CHECK(get_varint64(block.data(), end, &pos, &shared) && get_varint64(block.data(), end, &pos, &unshared) &&
                   get_varint64(block.data(), end, &pos, &vlen) && unshared <= end - pos &&
                   vlen <= end - pos - unshared,
               path, ": index block has a corrupt entry at byte ", pos);
    if (next_restart < restarts.size() && restarts[next_restart] == entry) {
      KEEL_CHECK(shared == 0, path, ": index block entry at restart point ", entry, " shares a key prefix");
      next_restart++;
    }
    KEEL_CHECK(next_restart == restarts.size() || restarts[next_restart] > entry, path,
               ": index block restart point ", restarts[next_restart], " is not the start of an entry");
    pos += unshared;
    const std::string value = block.substr(pos, vlen);
    pos += vlen;
    size_t vpos = 0;
    const Handle data = decode_handle(value, &vpos, path, "data");
    check_handle(data, limit, path, "data");
    const std::string trailer = read_at(file, data.offset + data.size, 1, path);
    if (trailer[0] == 1) {  // snappy: bound the length it will allocate
      const std::string head = read_at(file, data.offset, std::min<uint64_t>(data.size, 5), path);
      size_t ulen = 0;
      KEEL_CHECK(snappy::GetUncompressedLength(head.data(), head.size(), &ulen) && ulen <= 32 * data.size + 64,
                 path, ": data block at offset ", data.offset, " has a corrupt snappy header");
    }
  }
  for (; next_restart < restarts.size(); next_restart++)  // one at the end marks an empty block: harmless
    KEEL_CHECK(restarts[next_restart] == end, path, ": index block restart point ", restarts[next_restart],
               " is not the start of an entry");
}

}  // namespace keel::bundle_detail
