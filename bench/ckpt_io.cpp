// ckpt_io_262MB (peers/WORKLOADS.md): 40 float32 tensors of 1024x1600 saved as a tensor bundle with
// fsync, then restored into the existing tensors with read_into; `dd ... conv=fsync` to the same
// directory is measured in the same run for comparison, and the peak extra RSS during save.
//
//   run_ckpt_io(1);   // prints: peer=keel workload=ckpt_io_262MB threads=1 save_mb_per_s=... ...
//
// Until the workload registry (bench/workloads.cpp) exists this file is its own executable
// (keel-bench-ckpt_io [THREADS...]); define KEEL_BENCH_NO_MAIN when compiling it into the registry.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/graph/generator.h"
#include "keel/graph/threads.h"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long status_kb(const char* field) {  // VmRSS / VmHWM from /proc/self/status
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string name = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.compare(0, name.size(), name) == 0) return std::atol(line.c_str() + name.size());
  return -1;
}

void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
}

double dd_mb_per_s(const std::string& dir) {
  const std::string out = dir + "/dd.bin";
  const std::string cmd = "dd if=/dev/zero of=" + out + " bs=8M count=32 conv=fsync 2>/dev/null";
  const auto t = Clock::now();
  const int rc = std::system(cmd.c_str());
  const double s = since(t);
  std::filesystem::remove(out);
  return rc == 0 ? 32.0 * 8 * 1024 * 1024 / 1e6 / s : -1;
}

}  // namespace

void run_ckpt_io(int threads) {
  keel::set_num_threads(threads);
  std::string tmpl = (std::filesystem::temp_directory_path() / "keel_ckpt_io_XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  keel::Generator gen(7);
  std::vector<keel::Tensor> vars;
  for (int i = 0; i < 40; i++) vars.push_back(keel::Tensor::normal({1024, 1600}, gen));
  const double mb = 40.0 * 1024 * 1600 * 4 / 1e6;
  const std::string prefix = dir + "/ckpt-1";

  const long rss_before = status_kb("VmRSS");
  reset_peak_rss();
  auto t = Clock::now();
  {
    keel::BundleWriter w(prefix);
    for (int i = 0; i < 40; i++) w.add("layer_" + std::to_string(i) + "/kernel/.ATTRIBUTES/VARIABLE_VALUE", vars[i]);
    w.finish();
  }
  const double save_s = since(t);
  const long extra_kb = status_kb("VmHWM") - rss_before;

  for (auto& v : vars) v.fill_(0);
  t = Clock::now();
  {
    keel::BundleReader r(prefix);
    for (int i = 0; i < 40; i++)
      r.read_into("layer_" + std::to_string(i) + "/kernel/.ATTRIBUTES/VARIABLE_VALUE", vars[i], "ckpt_io");
  }
  const double restore_s = since(t);
  const double dd = dd_mb_per_s(dir);
  std::filesystem::remove_all(dir);
  std::printf("peer=keel workload=ckpt_io_262MB threads=%d save_mb_per_s=%.0f restore_mb_per_s=%.0f "
              "dd_fsync_mb_per_s=%.0f save_peak_extra_rss_mb=%.1f\n",
              threads, mb / save_s, mb / restore_s, dd, extra_kb / 1024.0);
}

#ifndef KEEL_BENCH_NO_MAIN
int main(int argc, char** argv) {
  if (argc < 2) {
    run_ckpt_io(1);
    run_ckpt_io(2);
  }
  for (int i = 1; i < argc; i++) run_ckpt_io(std::atoi(argv[i]));
  return 0;
}
#endif
