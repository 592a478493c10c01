#include "keel/keras/saving/h5/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "keel/graph/error.h"
#include "keel/keras/saving/temp_path.h"

namespace keel::h5 {
namespace {

void fsync_path(const std::string& path, int flags, const std::string& what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  KEEL_CHECK(fd >= 0, "atomic write: ", what, ": cannot open ", path, ": ", std::strerror(errno));
  const int r = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  KEEL_CHECK(r == 0, "atomic write: ", what, ": fsync of ", path, " failed: ", std::strerror(err));
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void atomic_write(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
  KEEL_CHECK(!path.empty() && path.back() != '/', "atomic write: invalid path '", path, "'");
  // As a checkpoint's BundleWriter does: a missing directory is created, not reported on the temporary.
  const std::string dir = directory_of(path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  KEEL_CHECK(!ec, "atomic write: cannot create directory ", dir, " for ", path, ": ", ec.message());
  keras::remove_stale_temporaries(path);
  const std::string tmp = keras::temp_sibling(path);
  try {
    write(tmp);
    fsync_path(tmp, O_RDONLY, path);
    KEEL_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "atomic write: cannot rename ", tmp, " to ", path,
               ": ", std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  fsync_path(directory_of(path), O_RDONLY | O_DIRECTORY, path);
}

}  // namespace keel::h5
