// Thread count for keel's kernels (OpenMP, shared with oneDNN). Results are deterministic at a fixed
// thread count.
#pragma once

namespace keel {

void set_num_threads(int n);
int get_num_threads();

}  // namespace keel
