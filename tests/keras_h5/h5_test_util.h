// Helpers for the Keras HDF5 tests: fixture paths and a scratch directory removed at the end.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace keel::test {

inline std::string keras_fixture(const std::string& name) {
  return std::string(KEEL_SHARED_DIR) + "/fixtures/keras_h5/" + name;
}

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/keel_keras_h5_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    dir_ = p != nullptr ? p : "/tmp";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (dir_ != "/tmp") std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace keel::test
