// Versioned non-tensor state for Trackable::save_state()/restore_state(), written with
// Boost.Serialization text archives (portable, and readable by newer Boost releases).
//
//   struct LoopState { int64_t epoch = 0; std::map<std::string, double> best;
//     template <class A> void serialize(A& ar, unsigned version) {
//       ar & epoch;
//       if (version >= 2) ar & best;        // added in version 2: older checkpoints still load
//     } };
//   BOOST_CLASS_VERSION(LoopState, 2)
//
//   std::string save_state() const override { return keel::state_to_string(loop_, "Trainer"); }
//   void restore_state(const std::string& s) override { loop_ = keel::state_from_string<LoopState>(s, "Trainer"); }
//
// The archive records the class version; serialize() receives the version that was written, so a
// reader must keep handling every version it ever wrote. A damaged string is a keel::Error naming `what`.
// Users of this header link Boost::serialization.
#pragma once

#include <sstream>
#include <string>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>

#include "keel/graph/error.h"

namespace keel {

template <class T>
std::string state_to_string(const T& value, const std::string& what) {
  std::ostringstream os;
  try {
    boost::archive::text_oarchive ar(os, boost::archive::no_codecvt);
    ar << value;
  } catch (const std::exception& e) {
    KEEL_FAIL(what, ": cannot serialize state: ", e.what());
  }
  return os.str();
}

template <class T>
T state_from_string(const std::string& bytes, const std::string& what) {
  T value{};
  try {
    std::istringstream is(bytes);
    boost::archive::text_iarchive ar(is, boost::archive::no_codecvt);
    ar >> value;
  } catch (const std::exception& e) {
    KEEL_FAIL(what, ": cannot read saved state (", bytes.size(), " bytes): ", e.what());
  }
  return value;
}

}  // namespace keel
