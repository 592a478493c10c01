// Dropout: keep each element with probability 1 - rate, scaled by 1 / (1 - rate). The mask comes from
// keel's counter-based Generator, so the same generator state gives the same mask.
#include "keel/ops/dropout.h"

#include <vector>

#include "keel/graph/node.h"
#include "keel/ops/detail/loops.h"

namespace keel::ops {

Tensor dropout(const Tensor& x, double rate, Generator& gen, bool training) {
  KEEL_CHECK(x.defined(), "dropout: input is undefined");
  KEEL_CHECK(rate >= 0 && rate < 1, "dropout: rate ", rate, " must be in [0, 1)");
  KEEL_CHECK(is_floating(x.dtype()), "dropout: input must be f32 or f64, got ", dtype_name(x.dtype()));
  if (!training || rate == 0) return x;
  const int64_t n = x.numel();
  // The mask holds 0 or 1/(1-rate) in x's dtype; the gradient is g * mask.
  Tensor mask = Tensor::uninitialized(x.shape(), x.dtype());
  Tensor y = Tensor::uninitialized(x.shape(), x.dtype());
  std::vector<float> u(static_cast<size_t>(n));
  gen.fill_uniform(u.data(), n, 0.f, 1.f);
  dispatch_floating(x.dtype(), "dropout", [&](auto z) {
    using T = decltype(z);
    const T scale = T(1) / (T(1) - T(rate));
    const float r = static_cast<float>(rate);
    const T* px = x.data<T>();
    T* pm = mask.data<T>();
    T* py = y.data<T>();
    const float* pu = u.data();
    // By value: a scale read through a reference is a conditional load the stores may alias, and the
    // loop stays scalar with a branch per element (a third of a 256x128 step's dropout time).
    detail::simd_for(n, [=](int64_t i) {
      const T m = static_cast<T>(pu[i] >= r) * scale;
      pm[i] = m;
      py[i] = px[i] * m;
    });
  });
  if (should_record({x})) {
    record("dropout", {x}, y, [mask](const Tensor& g) {
      Tensor dx = Tensor::uninitialized(g.shape(), g.dtype());
      dispatch_floating(g.dtype(), "dropout backward", [&](auto z) {
        using T = decltype(z);
        const T* pg = g.data<T>();
        const T* pm = mask.data<T>();
        T* pd = dx.data<T>();
        detail::simd_for(g.numel(), [=](int64_t i) { pd[i] = pg[i] * pm[i]; });
      });
      return std::vector<Tensor>{dx};
    });
  }
  return y;
}

}  // namespace keel::ops
