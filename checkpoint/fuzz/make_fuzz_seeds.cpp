// Writes the fuzzers' seed corpora from every bundle in the fixtures (see fuzz_input.h for layouts).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fuzz_input.h"
#include "keel/checkpoint/bundle.h"

namespace fs = std::filesystem;

static std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "bundle_index");
  fs::create_directories(out / "string_tensor");
  fs::create_directories(out / "object_graph");
  int n = 0;
  for (const auto& f : fs::recursive_directory_iterator(KEEL_FIXTURES)) {
    const std::string p = f.path().string();
    if (f.path().extension() != ".index") continue;
    const std::string prefix = p.substr(0, p.size() - 6);
    const std::string index = slurp(p), data = slurp(prefix + ".data-00000-of-00001");
    std::string seed;
    keel::fuzz::put_varint(&seed, index.size());
    seed += index + data;
    std::ofstream(out / "bundle_index" / ("seed" + std::to_string(n)), std::ios::binary) << seed;
    keel::BundleReader r(prefix);
    for (const auto& [key, e] : r.entries()) {
      if (e.tf_dtype != 7) continue;
      for (int fix = 0; fix < 2; fix++) {
        std::string s(1, static_cast<char>(fix));
        keel::fuzz::put_varint(&s, 1);
        s.append(reinterpret_cast<const char*>(&e.masked_crc32c), 4);
        s += data.substr(e.offset, e.size);
        std::ofstream(out / "string_tensor" / ("seed" + std::to_string(n) + "_" + std::to_string(fix)),
                      std::ios::binary) << s;
      }
    }
    if (r.contains("_CHECKPOINTABLE_OBJECT_GRAPH")) {  // fuzz_object_graph modes 0 (parse) and 2 (restore)
      const std::string g = r.read("_CHECKPOINTABLE_OBJECT_GRAPH").str(0);
      for (char mode : {'\0', '\2'}) {
        std::ofstream(out / "object_graph" / ("graph" + std::to_string(n) + "_" + std::to_string(int{mode})),
                      std::ios::binary) << std::string(1, mode) + g;
      }
    }
    n++;
  }
  int states = 0;  // mode 1: checkpoint state files
  for (const auto& f : fs::recursive_directory_iterator(KEEL_FIXTURES)) {
    if (f.path().filename() != "checkpoint") continue;
    std::ofstream(out / "object_graph" / ("state" + std::to_string(states++)), std::ios::binary)
        << std::string(1, '\1') + slurp(f.path().string());
  }
  std::cout << "seeds from " << n << " bundles in " << out << "\n";
  return 0;
}
