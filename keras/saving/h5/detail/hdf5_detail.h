// Internal to keras/saving/h5: the HDF5 id owner, the process-wide lock and the error helper shared by
// hdf5.cpp and hdf5_attr.cpp. Includes <hdf5.h>; never include it from a public header.
#pragma once

#include <hdf5.h>

#include <memory>
#include <mutex>
#include <string>

namespace keel::h5::detail {

static_assert(sizeof(hid_t) == sizeof(int64_t), "keel expects HDF5 >= 1.10 (64-bit hid_t)");

struct FileCtx {
  std::string path;
  unsigned long long size = 0;  // bytes on disk when opened for reading (0 for files being written)
};

using Closer = herr_t (*)(hid_t);

// Owns one HDF5 id; closing happens under the lock.
struct Handle {
  Handle(hid_t id_, Closer close_) : id(id_), close(close_) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  herr_t release();  // closes now; returns the closer's result (0 when nothing was open); keeps the id on failure
  hid_t id;
  Closer close;
};
using Owned = std::unique_ptr<Handle>;

// Serializes HDF5 calls and turns off HDF5's automatic error printing for this thread.
std::unique_lock<std::recursive_mutex> lock();

// "h5: <file>: <object>: <what> (HDF5: <innermost message>)", then clears HDF5's error stack.
[[noreturn]] void fail(const std::string& file, const std::string& object, const std::string& what);

// Wraps a fresh id: throws (via fail) when `id` is negative.
Owned own(hid_t id, Closer close, const std::string& file, const std::string& object,
          const std::string& what);

std::string join_path(const std::string& group, const std::string& rel);

}  // namespace keel::h5::detail
