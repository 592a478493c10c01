// Internal: versioned Boost.Serialization text archives for callbacks' non-tensor state, with loads
// that never allocate more than the input provides (containers are read element by element, so a
// hostile length fails when the input runs out) and doubles stored as their bits (inf and nan
// round-trip exactly).
//
//   std::string s = detail::write_state("History", 1, [&](auto& ar) { detail::put_vector(ar, epochs); });
//   detail::read_state(s, "History", 1, [&](auto& ar, unsigned version) { detail::get_vector(ar, epochs); });
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

namespace keel::keras::detail {

using OArchive = boost::archive::text_oarchive;
using IArchive = boost::archive::text_iarchive;

inline void put_double(OArchive& ar, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  ar << bits;
}
inline double get_double(IArchive& ar) {
  uint64_t bits = 0;
  ar >> bits;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

template <class T>
void put_vector(OArchive& ar, const std::vector<T>& v) {
  const uint64_t n = v.size();
  ar << n;
  for (const auto& x : v) {
    if constexpr (std::is_same_v<T, double>)
      put_double(ar, x);
    else
      ar << x;
  }
}
template <class T>
void get_vector(IArchive& ar, std::vector<T>& v) {
  uint64_t n = 0;
  ar >> n;
  v.clear();
  for (uint64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, double>) {
      v.push_back(get_double(ar));
    } else {
      T x{};
      ar >> x;
      v.push_back(x);
    }
  }
}

// Strings as vectors of character codes (Boost's own string load would size from the input).
void put_string(OArchive& ar, const std::string& s);
std::string get_string(IArchive& ar);

// A state string: "keel:<kind>" tag, format version, what `body` writes, then a fixed trailer.
std::string write_state(const std::string& kind, unsigned version, const std::function<void(OArchive&)>& body);
// Reads a state string written by write_state; errors (wrong kind, newer version, truncated or
// corrupt input) throw keel::Error naming `kind`.
void read_state(const std::string& bytes, const std::string& kind, unsigned max_version,
                const std::function<void(IArchive&, unsigned version)>& body);

}  // namespace keel::keras::detail
