#include "keel/graph/threads.h"

#include <omp.h>

#include "keel/graph/error.h"

namespace keel {

void set_num_threads(int n) {
  KEEL_CHECK(n >= 1, "set_num_threads: ", n, " threads; need at least 1");
  omp_set_num_threads(n);
}
int get_num_threads() { return omp_get_max_threads(); }

}  // namespace keel
