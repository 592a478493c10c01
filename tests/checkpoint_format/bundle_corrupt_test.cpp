// Damaged and hostile bundles: every outcome is a keel::Error naming file/key/problem, or a correct read.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

#include "bundle_test_util.h"
#include "keel/checkpoint/bundle.h"

using namespace keel;
using keel::bt::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kData = ".data-00000-of-00001";

// key -> tensor for every entry of a bundle (the reference outcome).
std::map<std::string, Tensor> read_all(const std::string& prefix) {
  BundleReader r(prefix);
  std::map<std::string, Tensor> out;
  for (const auto& [key, e] : r.entries()) out.emplace(key, r.read(key));
  return out;
}

// Opens and reads everything; each step either throws keel::Error or returns exactly the reference.
// Returns the number of keel::Errors seen.
int check_outcome(const std::string& prefix, const std::map<std::string, Tensor>& ref) {
  int errors = 0;
  try {
    BundleReader r(prefix);
    for (const auto& [key, e] : r.entries()) {
      try {
        const Tensor t = r.read(key);
        auto it = ref.find(key);
        EXPECT_TRUE(it != ref.end() && it->second.equal(t)) << prefix << ": wrong value read for " << key;
      } catch (const Error&) {
        errors++;
      }
    }
  } catch (const Error&) {
    errors++;
  }
  return errors;
}

std::string copy_bundle(const std::string& src, const TempDir& dir) {
  const std::string dst = dir / "copy";
  fs::copy_file(src + ".index", dst + ".index", fs::copy_options::overwrite_existing);
  fs::copy_file(src + kData, dst + kData, fs::copy_options::overwrite_existing);
  fs::permissions(dst + ".index", fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(dst + kData, fs::perms::owner_read | fs::perms::owner_write);
  return dst;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<std::string> kFixtures = {
    bt::fixture("tf_checkpoints/tictactoe/ckpt-18"),
    bt::fixture("saved_models/half_plus_two_tf2/variables/variables"),  // snappy index
};

}  // namespace

TEST(BundleCorrupt, TruncatedIndexAtEveryLength) {
  for (const std::string& src : kFixtures) {
    TempDir dir;
    const std::string p = copy_bundle(src, dir);
    const auto ref = read_all(src);
    const std::string index = bt::read_bytes(src + ".index");
    for (size_t n = 0; n < index.size(); n++) {
      bt::write_bytes(p + ".index", index.substr(0, n));
      EXPECT_GT(check_outcome(p, ref), 0) << "index truncated to " << n << " bytes opened";
    }
  }
}

TEST(BundleCorrupt, TruncatedDataAtManyLengths) {
  for (const std::string& src : kFixtures) {
    TempDir dir;
    const std::string p = copy_bundle(src, dir);
    const auto ref = read_all(src);
    const std::string data = bt::read_bytes(src + kData);
    for (size_t n = 0; n < data.size(); n += 13) {
      bt::write_bytes(p + kData, data.substr(0, n));
      EXPECT_GT(check_outcome(p, ref), 0) << "data truncated to " << n;
    }
  }
}

TEST(BundleCorrupt, FlippedIndexBytes) {
  for (const std::string& src : kFixtures) {
    TempDir dir;
    const std::string p = copy_bundle(src, dir);
    const auto ref = read_all(src);
    const std::string index = bt::read_bytes(src + ".index");
    for (size_t i = 0; i < index.size(); i++) {
      for (unsigned char mask : {0x01, 0x80, 0xff}) {
        std::string bad = index;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        bt::write_bytes(p + ".index", bad);
        check_outcome(p, ref);  // an error or the right values; never a crash or a wrong value
      }
    }
  }
}

TEST(BundleCorrupt, FlippedDataBytesAlwaysCaught) {
  for (const std::string& src : kFixtures) {
    TempDir dir;
    const std::string p = copy_bundle(src, dir);
    const auto ref = read_all(src);
    const std::string data = bt::read_bytes(src + kData);
    BundleReader layout(src);
    for (size_t i = 0; i < data.size(); i += 3) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ 0x10);
      bt::write_bytes(p + kData, bad);
      std::string owner;
      for (const auto& [key, e] : layout.entries())
        if (static_cast<int64_t>(i) >= e.offset && static_cast<int64_t>(i) < e.offset + e.size) owner = key;
      if (owner.empty()) continue;  // padding between entries, if any
      BundleReader r(p);
      const std::string msg = error_of([&] { r.read(owner); });
      EXPECT_NE(msg.find(p + kData + ": key '" + owner + "': "), std::string::npos) << msg;
      EXPECT_GE(check_outcome(p, ref), 1);
    }
  }
}

TEST(BundleCorrupt, ExactMessages) {
  const std::string src = kFixtures[0];
  TempDir dir;
  const std::string p = copy_bundle(src, dir);
  const std::string index = bt::read_bytes(src + ".index");
  const std::string data = bt::read_bytes(src + kData);
  const std::string key = "net/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE";

  std::string bad = index;
  bad.back() ^= 1;
  bt::write_bytes(p + ".index", bad);
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: not an sstable (bad magic number)");

  bt::write_bytes(p + ".index", index.substr(0, 20));
  EXPECT_EQ(error_of([&] { BundleReader r(p); }),
            p + ".index: file is too short to be a table (20 bytes; the footer alone is 48)");

  bad = index;
  bad[30] ^= 0x04;  // inside the data block
  bt::write_bytes(p + ".index", bad);
  EXPECT_NE(error_of([&] { BundleReader r(p); }).find("checksum mismatch"), std::string::npos);
  EXPECT_EQ(error_of([&] { BundleReader r(p); }).rfind(p + ".index: ", 0), 0u);

  bt::write_bytes(p + ".index", index);
  BundleReader r(p);
  const BundleEntry& e = r.entry(key);
  bad = data;
  bad[e.offset + 5] ^= 0x40;
  bt::write_bytes(p + kData, bad);
  const std::string msg = error_of([&] { BundleReader(p).read(key); });
  EXPECT_EQ(msg.rfind(p + kData + ": key '" + key + "': checksum does not match: stored 0x", 0), 0u) << msg;

  bt::write_bytes(p + kData, data.substr(0, e.offset + 10));
  EXPECT_EQ(error_of([&] { BundleReader(p).read(key); }),
            p + kData + ": key '" + key + "': bytes [" + std::to_string(e.offset) + ", " +
                std::to_string(e.offset + e.size) + ") lie past the end of the " + std::to_string(e.offset + 10) +
                "-byte data file");
  fs::remove(p + kData);
  EXPECT_EQ(error_of([&] { BundleReader(p).read(key); }).rfind(p + kData + ": cannot open data file: ", 0), 0u);
}

// Hand-made index tables: entries keel's writer would never produce.
class CraftedBundle : public ::testing::Test {
 protected:
  TempDir dir;
  std::string p = dir / "crafted";
  void make(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& data) {
    bt::write_bytes(p + ".index", bt::tiny_table(kv));
    bt::write_bytes(p + kData, data);
  }
  static uint32_t mcrc(const std::string& s) { return crc32c_mask(crc32c(s.data(), s.size())); }
};

TEST_F(CraftedBundle, TinyTableMatchesTheFormat) {
  const std::string data("\x00\x00\x80\x3f", 4);  // 1.0f
  make({{"", bt::header_proto(1)}, {"one", bt::entry_proto(1, {}, 0, 4, mcrc(data))}}, data);
  EXPECT_EQ(BundleReader(p).read("one").item<float>(), 1.0f);
}

TEST_F(CraftedBundle, ShapeNotFittingTheBytes) {
  const std::string data(8, '\0');
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {3}, 0, 8, mcrc(data))}}, data);
  EXPECT_EQ(error_of([&] { BundleReader(p).read("x"); }),
            p + kData + ": key 'x': float [3] does not fit the 8 bytes of the entry");
  Tensor dst = Tensor::zeros({3});
  EXPECT_EQ(error_of([&] { BundleReader(p).read_into("x", dst, "v"); }),
            p + kData + ": key 'x': float [3] does not fit the 8 bytes of the entry");
  // verify (keel-ckpt verify) reports it too, although the checksum of the 8 bytes matches.
  EXPECT_EQ(error_of([&] { BundleReader(p).verify("x"); }),
            p + kData + ": key 'x': float [3] does not fit the 8 bytes of the entry");
  make({{"", bt::header_proto(1)}, {"h", bt::entry_proto(19, {2}, 0, 8, mcrc(data))}}, data);  // half
  EXPECT_EQ(error_of([&] { BundleReader(p).verify("h"); }),
            p + kData + ": key 'h': half [2] does not fit the 8 bytes of the entry");
}

TEST_F(CraftedBundle, OverflowingAndNegativeShapes) {
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {int64_t(1) << 40, int64_t(1) << 40}, 0, 0, 0)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }),
            p + ".index: key 'x': shape [1099511627776,1099511627776] has more elements than int64 can count");
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {2, -1}, 0, 0, 0)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: key 'x': shape [2,-1] has a negative dimension");
  // Huge but countable: the entry's size bounds the allocation, nothing is allocated.
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(9, {int64_t(1) << 40}, 0, 8, 0)}}, std::string(8, '\0'));
  EXPECT_EQ(error_of([&] { BundleReader(p).read("x"); }),
            p + kData + ": key 'x': int64 [1099511627776] does not fit the 8 bytes of the entry");
  make({{"", bt::header_proto(1)}, {"s", bt::entry_proto(7, {int64_t(1) << 40}, 0, 8, 0)}}, std::string(8, '\0'));
  EXPECT_EQ(error_of([&] { BundleReader(p).read("s"); }),
            p + kData + ": key 's': string tensor [1099511627776] cannot fit in 8 bytes");
}

TEST_F(CraftedBundle, OffsetsPastTheFileAndBadRanges) {
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {1}, int64_t(1) << 62, 4, 0)}}, "abcd");
  EXPECT_EQ(error_of([&] { BundleReader(p).read("x"); }),
            p + kData + ": key 'x': bytes [4611686018427387904, 4611686018427387908) lie past the end of the 4-byte data file");
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {1}, -4, 4, 0)}}, "abcd");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: key 'x': bad byte range offset -4 size 4");
  make({{"", bt::header_proto(1)}, {"x", bt::entry_proto(1, {1}, 0, 4, 0, 3)}}, "abcd");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: key 'x': shard 3 is not among the 1 shards");
}

TEST_F(CraftedBundle, HeaderChecks) {
  make({{"", bt::header_proto(0)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: header says 0 shards (expected 1 to 99999)");
  make({{"", bt::header_proto(1, 1)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: bundle is big-endian; keel reads little-endian bundles only");
  make({{"", bt::header_proto(1, 0, 2)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: bundle needs a reader of version >= 2 (keel reads version 1)");
  make({{"a", bt::entry_proto(1, {}, 0, 0, 0)}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: the header entry (empty key) is missing");
  make({{"", "\xff\xff\xff"}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: header is not a BundleHeaderProto");
  make({{"", bt::header_proto(1)}, {"x", "\x0a\x05\x12"}}, "");
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: key 'x': value is not a BundleEntryProto");
}

TEST_F(CraftedBundle, DtypesKeelCannotHoldAreListed) {
  const std::string half(4, '\x3c');
  std::string sliced = bt::entry_proto(1, {4}, 0, 0, 0);
  sliced += std::string("\x3a\x02\x0a\x00", 4);  // slices { extent {} }
  make({{"", bt::header_proto(1)},
        {"h", bt::entry_proto(19, {2}, 0, 4, mcrc(half))},
        {"s", sliced},
        {"v", bt::entry_proto(21, {}, 0, 4, 0)}},
       half);
  BundleReader r(p);
  ASSERT_EQ(r.entries().size(), 3u);
  EXPECT_FALSE(r.entry("h").dtype.has_value());
  EXPECT_EQ(tf_dtype_name(r.entry("h").tf_dtype), "half");
  EXPECT_FALSE(r.entry("v").dtype.has_value());
  EXPECT_TRUE(r.entry("s").sliced);
  EXPECT_EQ(error_of([&] { r.read("h"); }), p + ".index: key 'h' has dtype half, which keel cannot hold");
  EXPECT_EQ(error_of([&] { r.read("v"); }), p + ".index: key 'v' has dtype variant, which keel cannot hold");
  EXPECT_EQ(error_of([&] { r.read("s"); }),
            p + ".index: key 's' is a sliced (partitioned) variable; keel does not read slices");
  EXPECT_TRUE(r.verify("h"));   // fixed-size: the checksum is checked
  EXPECT_FALSE(r.verify("v"));  // variant: only the range is checked
  EXPECT_FALSE(r.verify("s"));
  EXPECT_EQ(tf_dtype_name(42), "DataType(42)");
  EXPECT_EQ(tf_dtype_name(101), "float_ref");
}

TEST_F(CraftedBundle, HostileStringTensors) {
  auto str_entry = [&](const std::string& bytes, int64_t n) {
    make({{"", bt::header_proto(1)}, {"s", bt::entry_proto(7, {n}, 0, int64_t(bytes.size()), mcrc(bytes))}}, bytes);
  };
  std::string b;
  bt::varint(&b, uint64_t(1) << 60);  // a length far past the entry
  b += std::string(8, 'x');
  str_entry(b, 1);
  EXPECT_EQ(error_of([&] { BundleReader(p).read("s"); }),
            p + kData + ": key 's': string lengths add up to more than the " + std::to_string(b.size()) +
                " bytes of the entry");
  str_entry(std::string(12, '\x80'), 2);  // unterminated varint
  EXPECT_EQ(error_of([&] { BundleReader(p).read("s"); }),
            p + kData + ": key 's': string length 0 is truncated or malformed");
  b.clear();
  bt::varint(&b, 2);
  bt::fixed32(&b, 0x12345678);  // wrong length checksum
  b += "ab";
  str_entry(b, 1);
  EXPECT_NE(error_of([&] { BundleReader(p).read("s"); }).find("string length checksum does not match"),
            std::string::npos);
}

TEST_F(CraftedBundle, HostileBlockHandles) {
  // An index whose footer points the index block 2^40 bytes long: refused before LevelDB allocates it.
  std::string t = bt::tiny_table({{"", bt::header_proto(1)}});
  std::string footer;
  bt::varint(&footer, 0);
  bt::varint(&footer, 0);
  bt::varint(&footer, 0);
  bt::varint(&footer, uint64_t(1) << 40);
  footer.resize(40, '\0');
  t.replace(t.size() - 48, 40, footer);
  bt::write_bytes(p + ".index", t);
  const std::string msg = error_of([&] { BundleReader r(p); });
  EXPECT_EQ(msg.rfind(p + ".index: index block [0, +1099511627776) lies past the end of the table", 0), 0u) << msg;
}

TEST_F(CraftedBundle, RestartPointsMustBeCheckedEntries) {
  // LevelDB reads a block from its restart points. One pointing into the middle of the first entry's
  // value, where a second entry with a 2^40-byte block handle hides, is refused before LevelDB sees it.
  using namespace bt;
  auto hidden_entry = [](const std::string& key, const std::string& data_handle, bool restart_in_value) {
    std::string huge;
    varint(&huge, 0);
    varint(&huge, uint64_t(1) << 40);
    std::string hidden;
    varint(&hidden, 0);
    varint(&hidden, key.size());
    varint(&hidden, huge.size());
    hidden += key + huge;
    std::string b;
    varint(&b, 0);
    varint(&b, key.size());
    varint(&b, data_handle.size() + hidden.size());
    b += key + data_handle;
    const uint32_t restart = restart_in_value ? static_cast<uint32_t>(b.size()) : 0;
    b += hidden;
    fixed32(&b, restart);
    fixed32(&b, 1);
    return b;
  };
  const std::vector<std::pair<std::string, std::string>> kv{{"", header_proto(1)}};
  write_bytes(p + ".index", tiny_table(kv, [&](const std::string& k, const std::string& h) {
                return hidden_entry(k, h, false);
              }));
  EXPECT_NO_THROW(BundleReader r(p));  // the same bytes read from byte 0: one valid entry
  write_bytes(p + ".index", tiny_table(kv, [&](const std::string& k, const std::string& h) {
                return hidden_entry(k, h, true);
              }));
  EXPECT_EQ(error_of([&] { BundleReader r(p); }), p + ".index: index block's first restart point is not its first entry");
}
