// The registry of bench/workloads.cpp: each workload is a name and a function that prints one line
// in the peer's form ("peer=keel workload=NAME threads=T metric=value ...").
//
//   std::vector<Workload> graph_workloads();   // graph API: op_overhead, gemm1024, dense_fused, lstm_graph_bs64
//   std::vector<Workload> keras_workloads();   // Sequential + compile + fit: mlp*, cnn*, lstm_bs64
//   std::vector<Workload> io_workloads();      // checkpoint save/restore: ckpt_io_262MB
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace keel::bench {

using Clock = std::chrono::steady_clock;
inline double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Workload {
  const char* name;
  std::function<void(int threads)> run;
};

std::vector<Workload> graph_workloads();
std::vector<Workload> keras_workloads();
std::vector<Workload> io_workloads();

}  // namespace keel::bench
