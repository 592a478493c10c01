#include "keel/autodiff/gradcheck.h"

#include <cmath>
#include <sstream>

#include "keel/autodiff/backward.h"
#include "keel/graph/generator.h"
#include "keel/graph/node.h"

namespace keel {

namespace {

// sum(y * w) in double, by a plain loop.
double contract(const Tensor& y, const Tensor& w) {
  const Tensor y64 = y.dtype() == DType::f64 ? y : y.to(DType::f64);
  const double* a = y64.data<double>();
  const double* b = w.data<double>();
  double s = 0;
  for (int64_t i = 0; i < y64.numel(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  GradcheckResult r;
  std::vector<Tensor> leaves;
  std::vector<size_t> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t = inputs[i].defined() ? inputs[i].clone() : Tensor();
    if (t.defined() && is_floating(t.dtype())) {
      t.set_requires_grad(true);
      checked.push_back(i);
    }
    leaves.push_back(t);
  }
  Tensor y;
  {
    EnableGradGuard on;
    y = f(leaves);
  }
  KEEL_CHECK(y.defined() && is_floating(y.dtype()), "gradcheck: f must return a floating tensor");
  Generator gen(1234);
  Tensor w = Tensor::uniform(y.shape(), gen, -1, 1, DType::f64);
  std::vector<Tensor> sources;
  for (size_t i : checked) sources.push_back(leaves[i]);
  std::vector<Tensor> analytic;
  if (y.requires_grad()) {
    analytic = grad(y, sources, y.dtype() == DType::f64 ? w : w.to(y.dtype()), false, true);
  } else {
    for (const Tensor& s : sources) analytic.push_back(Tensor::zeros(s.shape(), s.dtype()));
  }

  NoGradGuard off;
  std::ostringstream msg;
  for (size_t k = 0; k < checked.size(); ++k) {
    const size_t i = checked[k];
    std::vector<Tensor> probe;
    for (const Tensor& t : leaves) probe.push_back(t.defined() ? t.detach().clone() : Tensor());
    Tensor x = probe[i];
    const Tensor a64 = analytic[k].to(DType::f64);
    const double* a = a64.data<double>();
    for (int64_t e = 0; e < x.numel(); ++e) {
      auto bump = [&](double delta) {
        if (x.dtype() == DType::f64) x.data<double>()[e] += delta;
        else x.data<float>()[e] += static_cast<float>(delta);
      };
      const double orig = x.dtype() == DType::f64 ? x.data<double>()[e] : x.data<float>()[e];
      bump(eps);
      const double fp = contract(f(probe), w);
      if (x.dtype() == DType::f64) x.data<double>()[e] = orig; else x.data<float>()[e] = static_cast<float>(orig);
      bump(-eps);
      const double fm = contract(f(probe), w);
      if (x.dtype() == DType::f64) x.data<double>()[e] = orig; else x.data<float>()[e] = static_cast<float>(orig);
      const double numeric = (fp - fm) / (2 * eps);
      const double err = std::abs(a[e] - numeric);
      const double rel = err / std::max(std::abs(numeric), 1e-12);
      r.max_abs_error = std::max(r.max_abs_error, err);
      if (err <= atol + rtol * std::abs(numeric)) continue;
      r.max_rel_error = std::max(r.max_rel_error, rel);
      if (r.ok) {
        msg << "input " << i << " element " << e << ": analytic " << a[e] << " vs numeric " << numeric
            << " (abs error " << err << ")";
      }
      r.ok = false;
    }
  }
  r.message = msg.str();
  return r;
}

}  // namespace keel
