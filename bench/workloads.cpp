// keel's side of ../shared/peers/WORKLOADS.md: one line per workload in the peer's form, e.g.
//   peer=keel workload=gemm1024 threads=2 gflops=350.1 sgemm_gflops=360.2
//   peer=keel workload=mlp128_bs32 threads=1 train_samples_per_s=70312 acc=0.8512 prims_after_step1=0
//
//   keel-bench-workloads THREADS [NAME...]   NAME selects every workload whose name starts with it
//                                            ("gemm", "mlp", "mlp128_bs32"); none = all.
//
// Workloads are a registry of named functions (bench/workloads/workload.h): graph-API ones in
// bench/workloads/graph_workloads.cpp, Keras-API ones (Sequential + compile + fit) in
// bench/workloads/keras_workloads.cpp, checkpoint I/O (ckpt_io_262MB) in bench/workloads/io_workloads.cpp.
// Add one with a function and a line in its file's list.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "keel/graph/threads.h"
#include "workloads/workload.h"

namespace {

const std::vector<keel::bench::Workload>& workloads() {
  static const std::vector<keel::bench::Workload> all = [] {
    std::vector<keel::bench::Workload> w = keel::bench::graph_workloads();
    for (auto& k : keel::bench::keras_workloads()) w.push_back(std::move(k));
    for (auto& k : keel::bench::io_workloads()) w.push_back(std::move(k));
    return w;
  }();
  return all;
}

bool selected(const char* name, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted)
    if (std::string(name).rfind(w, 0) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::atoi(argv[1]) < 1) {
    std::fprintf(stderr, "usage: %s THREADS [NAME...]\nworkloads:", argv[0]);
    for (const auto& w : workloads()) std::fprintf(stderr, " %s", w.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  std::vector<std::string> wanted(argv + 2, argv + argc);
  wanted.erase(std::remove(wanted.begin(), wanted.end(), std::string()), wanted.end());
  for (const auto& w : wanted) {
    bool any = false;
    for (const auto& wl : workloads()) any = any || selected(wl.name, {w});
    if (!any) {
      std::fprintf(stderr, "%s: no workload named %s*\n", argv[0], w.c_str());
      return 2;
    }
  }
  keel::set_num_threads(threads);
  for (const auto& wl : workloads()) {
    if (!selected(wl.name, wanted)) continue;
    try {
      wl.run(threads);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: workload %s failed: %s\n", argv[0], wl.name, e.what());
      return 1;
    }
    std::fflush(stdout);
  }
  return 0;
}
