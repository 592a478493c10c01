// Crash-safe replacement of a file: write a temporary beside it, fsync, rename, fsync the directory.
//
//   atomic_write("/tmp/model.h5", [&](const std::string& tmp) { write_everything_to(tmp); });
//
// `write` must create and fully close the file at `tmp`. If it throws, or any step fails, the temporary
// is removed and the error (keel::Error naming `path`) propagates; `path` keeps its old content. A
// process killed mid-write leaves `path` intact (and possibly a stale `<path>.keel-tmp-*` file, which the
// next atomic_write to `path` removes once its writer is dead: keras/saving/temp_path.h).
#pragma once

#include <functional>
#include <string>

namespace keel::h5 {

void atomic_write(const std::string& path, const std::function<void(const std::string& tmp)>& write);

}  // namespace keel::h5
