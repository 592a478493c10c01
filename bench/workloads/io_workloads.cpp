// Checkpoint I/O workloads: ckpt_io_262MB (WORKLOADS.md): 40 float32 tensors of 1024x1600 saved as a
// tensor bundle (BundleWriter, including its fsyncs), then restored into the existing tensors with
// read_into. keel's line also carries `dd ... conv=fsync` of 256 MiB to the same directory, measured in
// the same run (the save target is >= 0.8 of it), and the peak extra RSS during the save:
//   peer=keel workload=ckpt_io_262MB threads=1 save_mb_per_s=... restore_mb_per_s=... dd_fsync_mb_per_s=...
//        save_peak_extra_rss_mb=...
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/graph/generator.h"
#include "workload.h"

namespace keel::bench {

namespace {

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

std::string key(int i) { return "layer_" + std::to_string(i) + "/kernel/.ATTRIBUTES/VARIABLE_VALUE"; }

void ckpt_io_262MB(int threads) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "keel_ckpt_io_XXXXXX").string();
  KEEL_CHECK(::mkdtemp(tmpl.data()) != nullptr, "ckpt_io_262MB: cannot create a directory from ", tmpl);
  const std::string dir = tmpl;
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
    for (int i = 0; i < 40; i++) w.add(key(i), vars[i]);
    w.finish();
  }
  const double save_s = since(t);
  const long extra_kb = status_kb("VmHWM") - rss_before;

  for (auto& v : vars) v.fill_(0);
  t = Clock::now();
  {
    keel::BundleReader r(prefix);
    for (int i = 0; i < 40; i++) r.read_into(key(i), vars[i], "ckpt_io_262MB");
  }
  const double restore_s = since(t);
  const double dd = dd_mb_per_s(dir);
  std::filesystem::remove_all(dir);
  std::printf("peer=keel workload=ckpt_io_262MB threads=%d save_mb_per_s=%.0f restore_mb_per_s=%.0f "
              "dd_fsync_mb_per_s=%.0f save_peak_extra_rss_mb=%.1f\n",
              threads, mb / save_s, mb / restore_s, dd, extra_kb / 1024.0);
}

}  // namespace

std::vector<Workload> io_workloads() { return {{"ckpt_io_262MB", ckpt_io_262MB}}; }

}  // namespace keel::bench
