// Reading an untrusted file in a child process first, so that a library crash or hang on damaged input
// becomes a keel::Error naming the file instead of killing or hanging the caller. HDF5 1.10.8 (Debian 12)
// does not validate the global-heap references of variable-length strings: a damaged file can make it
// read out of bounds (SIGSEGV) or loop forever (see keras/saving/h5/FORMAT.md, "Hostile files").
//
//   check_in_child("keras h5: " + path, path, [&] { read_everything(path); });
//   // returns when `read` finished in the child; throws keel::Error when it threw there (its message),
//   // was killed by a signal, or ran past the time limit. Then the caller reads the file itself.
//
// The time limit is 10 s plus 1 s per 10 MB of the file, or KEEL_UNTRUSTED_READ_SECONDS when set.
// When fork() fails (no memory for another process) the check is skipped: the caller's own checks
// still run, only the isolation is lost.
#pragma once

#include <functional>
#include <string>

namespace keel::h5 {

void check_in_child(const std::string& what, const std::string& path, const std::function<void()>& read);

}  // namespace keel::h5
