#include "keel/keras/sample_weights.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "keel/graph/error.h"
#include "keel/ops/elementwise.h"

namespace keel::keras::detail {

namespace {

// "sample_weight" for a model with one output, "sample_weight for output 'class'" for several.
std::string weight_label(const std::vector<std::string>& names, size_t i) {
  return names.size() > 1 ? "sample_weight for output '" + names[i] + "'" : std::string("sample_weight");
}

// "y", or "the y of output 'class'".
std::string targets_label(const std::vector<std::string>& names, size_t i) {
  return names.size() > 1 ? "the y of output '" + names[i] + "'" : std::string("y");
}

// For targets of a sequence ([N, T, ...]): the per-step alternative, for the shape error.
std::string per_step_hint(const Tensor& target) {
  if (target.dim() < 2) return "";
  return " or, for a sequence output, one per step (shape [" + std::to_string(target.size(0)) + "," +
         std::to_string(target.size(1)) + "])";
}

std::string keys_of(const ClassWeight& class_weight) {
  std::ostringstream s;
  for (const auto& [k, w] : class_weight) s << (s.tellp() > 0 ? ", " : "") << k;
  return s.str();
}

}  // namespace

std::vector<Tensor> resolve_sample_weights(const Arrays& given, const std::vector<std::string>& output_names,
                                           const std::vector<Tensor>& y, const std::string& what) {
  std::vector<Tensor> out = given.broadcast_in_order(output_names, what, "sample_weight", "output");
  for (size_t i = 0; i < out.size(); ++i) {
    Tensor& w = out[i];
    if (!w.defined()) continue;  // this output is unweighted
    const Tensor& target = y.at(i);
    if (!target.defined()) {  // no targets given, so no loss or metric to weigh (Keras ignores these weights)
      w = Tensor();
      continue;
    }
    const int64_t n = target.size(0);
    // [N, 1] is one weight per sample too: Keras's losses and metrics squeeze its last axis.
    if (w.dim() == 2 && w.size(1) == 1) w = w.view({w.size(0)});
    // [N, T, ...]: one weight per per-sample loss of a sequence output (Keras's temporal weights); the
    // loss checks that they fit its losses, and names both shapes when they do not.
    KEEL_CHECK(w.dim() >= 1 && w.size(0) == n && w.dim() <= std::max<int64_t>(target.dim(), 1), what, ": ",
               weight_label(output_names, i), " has shape ", shape_str(w.shape()), ", but ",
               targets_label(output_names, i), " has shape ", shape_str(target.shape()),
               ": give one weight per sample (shape [", n, "])", per_step_hint(target));
    KEEL_CHECK(w.dtype() != DType::string, what, ": ", weight_label(output_names, i), " is a string tensor");
    if (w.dtype() != DType::f32) w = w.to(DType::f32);
  }
  return out;
}

void check_class_weight(const ClassWeight& class_weight, const std::vector<std::string>& output_names,
                        const std::string& what) {
  KEEL_CHECK(output_names.size() <= 1, what, ": class_weight is only supported for a model with one output (Keras); "
             "the model has ", output_names.size(), " outputs (", quoted_names(output_names),
             "): give sample_weight for each output instead");
  // Keras 2.4: the sorted keys must be exactly range(len(keys)).
  int64_t expected = 0;
  for (const auto& [k, w] : class_weight) {
    (void)w;
    KEEL_CHECK(k == expected, what, ": class_weight keys must be the classes 0 to K-1, each once (Keras); got ",
               keys_of(class_weight));
    ++expected;
  }
}

Tensor class_weight_to_sample_weight(const ClassWeight& class_weight, const Tensor& y, const Tensor& sample_weight,
                                     const std::string& what) {
  const auto classes = static_cast<int64_t>(class_weight.size());
  KEEL_CHECK(y.defined() && y.dim() >= 1 && y.dim() <= 2, what, ": class_weight needs labels [N], [N, 1] or one-hot "
             "[N, K]; y has shape ", y.defined() ? shape_str(y.shape()) : std::string("(undefined)"),
             " (Keras: class_weight is not supported for 3+ dimensional targets)");
  const int64_t n = y.size(0);
  const bool one_hot = y.dim() == 2 && y.size(1) > 1;
  const int64_t width = y.dim() == 2 ? y.size(1) : 1;
  const std::vector<double> v = y.to(DType::f64).to_vector<double>();
  const float* sw = nullptr;
  if (sample_weight.defined()) {
    KEEL_CHECK(sample_weight.dtype() == DType::f32 && sample_weight.dim() == 1 && sample_weight.numel() == n, what,
               ": class_weight needs one f32 sample_weight per sample of y ", shape_str(y.shape()), "; got ",
               shape_str(sample_weight.shape()), " (class_weight with per-step weights of a sequence is not "
               "supported, as in Keras: multiply the class weights into the sample_weight instead)");
    sw = sample_weight.data<float>();
  }
  Tensor out = Tensor::uninitialized({n}, DType::f32);
  float* o = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double* row = v.data() + i * width;
    double label = row[0];
    if (one_hot) {  // the first maximum, as argmax
      int64_t best = 0;
      for (int64_t j = 1; j < width; ++j)
        if (row[j] > row[best]) best = j;
      label = static_cast<double>(best);
    }
    // Keras casts the labels to int64 (truncating); a label that is no key cannot be looked up.
    const bool known =
        std::isfinite(label) && std::trunc(label) >= 0 && std::trunc(label) < static_cast<double>(classes);
    KEEL_CHECK(known, what, ": class_weight has no weight for label ", label, " (sample ", i, " of y ",
               shape_str(y.shape()), "); its classes are 0 to ", classes - 1);
    const auto cw = static_cast<float>(class_weight.at(static_cast<int64_t>(label)));
    o[i] = sw ? sw[i] * cw : cw;
  }
  return out;
}

Tensor masked_sample_weight(const Tensor& sample_weight, const Tensor& mask) {
  if (!mask.defined()) return sample_weight;
  const Tensor m = ops::cast(mask, DType::f32);
  if (!sample_weight.defined()) return m;
  Tensor sw = sample_weight.to(DType::f32);
  KEEL_CHECK(sw.dim() >= 1 && sw.size(0) == m.size(0), "sample weights ", shape_str(sw.shape()),
             " do not match the output mask ", shape_str(m.shape()));
  if (sw.dim() < m.dim()) {
    Shape s = sw.shape();
    s.resize(m.shape().size(), 1);
    sw = sw.view(s);
  }
  return ops::mul(sw, m);
}

}  // namespace keel::keras::detail
