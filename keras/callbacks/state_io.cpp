#include "keel/keras/callbacks/state_io.h"

#include <sstream>

#include <boost/archive/archive_exception.hpp>

#include "keel/graph/error.h"

namespace keel::keras::detail {

namespace {
// Written after the body: a truncated record cannot end in a complete, valid trailer.
constexpr uint64_t kTrailer = 0x6b65656c5374617eULL;
}  // namespace

void put_string(OArchive& ar, const std::string& s) {
  std::vector<int32_t> codes(s.begin(), s.end());
  put_vector(ar, codes);
}

std::string get_string(IArchive& ar) {
  std::vector<int32_t> codes;
  get_vector(ar, codes);
  std::string s;
  s.reserve(codes.size());
  for (int32_t c : codes) s.push_back(static_cast<char>(c));
  return s;
}

std::string write_state(const std::string& kind, unsigned version, const std::function<void(OArchive&)>& body) {
  std::ostringstream os;
  {
    OArchive ar(os, boost::archive::no_header);
    std::string tag = "keel:" + kind;
    put_string(ar, tag);
    ar << version;
    body(ar);
    ar << kTrailer;
  }
  return os.str();
}

void read_state(const std::string& bytes, const std::string& kind, unsigned max_version,
                const std::function<void(IArchive&, unsigned)>& body) {
  std::istringstream is(bytes);
  try {
    IArchive ar(is, boost::archive::no_header);
    const std::string tag = get_string(ar);
    KEEL_CHECK(tag == "keel:" + kind, kind, " state: expected a '", kind, "' record, found '", tag.substr(0, 64), "'");
    unsigned version = 0;
    ar >> version;
    KEEL_CHECK(version <= max_version, kind, " state: version ", version, " is newer than this keel reads (",
               max_version, ")");
    body(ar, version);
    uint64_t trailer = 0;
    ar >> trailer;
    KEEL_CHECK(trailer == kTrailer, kind, " state: corrupt or truncated (bad trailer)");
  } catch (const boost::archive::archive_exception& e) {
    KEEL_FAIL(kind, " state: corrupt or truncated (", e.what(), ")");
  }
}

}  // namespace keel::keras::detail
