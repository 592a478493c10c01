// Cross-entropies and regression losses per sample, composed from differentiable ops (so each gradient is
// the composition's), except binary cross-entropy from logits, which is one stable op with its own gradient.
#include "keel/ops/losses.h"

#include <cmath>

#include "keel/graph/node.h"
#include "keel/graph/saved_tensor.h"
#include "keel/ops/activation.h"
#include "keel/ops/detail/map.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/reduce.h"
#include "keel/ops/shape_ops.h"

namespace keel::ops {

namespace {

constexpr double kEpsilon = 1e-7;  // Keras backend.epsilon()

void check_pred(const Tensor& pred, const char* op) {
  KEEL_CHECK(pred.defined(), op, ": prediction is undefined");
  KEEL_CHECK(is_floating(pred.dtype()), op, ": prediction must be f32 or f64, got ", dtype_name(pred.dtype()));
}

// Target in the prediction's dtype (as Keras casts y_true), with equal shapes.
Tensor matching_target(const Tensor& pred, const Tensor& target, const char* op) {
  KEEL_CHECK(target.defined(), op, ": target is undefined");
  KEEL_CHECK(target.shape() == pred.shape(), op, ": target ", shape_str(target.shape()), " and prediction ",
             shape_str(pred.shape()), " differ in shape");
  return target.dtype() == pred.dtype() ? target : cast(target, pred.dtype());
}

// Labels as i64, checked against [0, classes): integer dtypes, or floating values that are whole numbers.
Tensor checked_labels(const Tensor& labels, int64_t classes, const char* op) {
  Tensor out = Tensor::empty(labels.shape(), DType::i64);
  int64_t* o = out.data<int64_t>();
  dispatch_numeric(labels.dtype(), op, [&](auto z) {
    using T = decltype(z);
    const T* l = labels.data<T>();
    for (int64_t i = 0; i < labels.numel(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        KEEL_CHECK(std::floor(l[i]) == l[i], op, ": label ", l[i], " is not an integer");
        KEEL_CHECK(l[i] >= 0 && l[i] < static_cast<T>(classes), op, ": label ", l[i], " is out of range for ",
                   classes, " classes");
      } else {
        KEEL_CHECK(static_cast<int64_t>(l[i]) >= 0 && static_cast<int64_t>(l[i]) < classes, op, ": label ",
                   static_cast<int64_t>(l[i]), " is out of range for ", classes, " classes");
      }
      o[i] = static_cast<int64_t>(l[i]);
    }
  });
  return out;
}

Tensor mean_last(const Tensor& x, const char* op) {
  KEEL_CHECK(x.dim() >= 1, op, ": needs rank >= 1, got ", shape_str(x.shape()));
  return mean(x, {-1});
}

// max(x, 0) - x * t + log(1 + exp(-|x|)), elementwise; gradient sigmoid(x) - t (and -x for t).
Tensor sigmoid_cross_entropy(const Tensor& x, const Tensor& t) {
  Tensor out = detail::map2(x, t, "binary_crossentropy", [](auto xv, auto tv) {
    return (xv > 0 ? xv : decltype(xv)(0)) - xv * tv + std::log1p(std::exp(-std::abs(xv)));
  });
  if (should_record({x, t}))
    record("sigmoid_cross_entropy", {x, t}, out, [xd = SavedTensor(x), td = SavedTensor(t)](const Tensor& g) {
      Tensor gx = detail::map3(g, xd, td, "binary_crossentropy", [](auto gv, auto xv, auto tv) {
        using T = decltype(xv);
        const T s = xv >= 0 ? T(1) / (T(1) + std::exp(-xv)) : std::exp(xv) / (T(1) + std::exp(xv));
        return gv * (s - tv);
      });
      Tensor gt = detail::map2(g, xd, "binary_crossentropy", [](auto gv, auto xv) { return -gv * xv; });
      return std::vector<Tensor>{gx, gt};
    });
  return out;
}

}  // namespace

Tensor sparse_categorical_crossentropy(const Tensor& pred, const Tensor& labels, bool from_logits, int64_t axis) {
  const char* op = "sparse_categorical_crossentropy";
  check_pred(pred, op);
  KEEL_CHECK(labels.defined(), op, ": labels are undefined");
  const int64_t a = normalize_axis(axis, pred.dim(), op);
  const int64_t classes = pred.shape()[a];
  Shape want = pred.shape();
  want.erase(want.begin() + a);
  Shape with_one = want;
  with_one.push_back(1);
  KEEL_CHECK(labels.shape() == want || labels.shape() == with_one, op, ": labels ", shape_str(labels.shape()),
             " do not match predictions ", shape_str(pred.shape()), " (class axis ", a, ")");
  Tensor lab = checked_labels(labels, classes, op).view(want);
  Tensor hot = one_hot(lab, classes, pred.dtype());  // class axis last
  if (a != pred.dim() - 1) {
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < pred.dim() - 1; ++d) {
      if (d == a) perm.push_back(pred.dim() - 1);
      perm.push_back(d);
    }
    hot = permute(hot, perm);
  }
  // Keras: probabilities are clipped, and their log renormalised by softmax (sparse_softmax_cross_entropy).
  Tensor logits = from_logits ? pred : log(clip(pred, kEpsilon, 1 - kEpsilon));
  return neg(sum(mul(hot, log_softmax(logits, a)), {a}));
}

Tensor categorical_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits, int64_t axis) {
  const char* op = "categorical_crossentropy";
  check_pred(pred, op);
  const Tensor t = matching_target(pred, target, op);
  const int64_t a = normalize_axis(axis, pred.dim(), op);
  if (from_logits) return neg(sum(mul(t, log_softmax(pred, a)), {a}));
  Tensor p = clip(div(pred, sum(pred, {a}, true)), kEpsilon, 1 - kEpsilon);
  return neg(sum(mul(t, log(p)), {a}));
}

Tensor binary_crossentropy(const Tensor& pred, const Tensor& target, bool from_logits) {
  const char* op = "binary_crossentropy";
  check_pred(pred, op);
  const Tensor t = matching_target(pred, target, op);
  if (from_logits) return mean_last(sigmoid_cross_entropy(pred, t), op);
  // Keras: clip, then t * log(p + eps) + (1 - t) * log(1 - p + eps).
  Tensor p = clip(pred, kEpsilon, 1 - kEpsilon);
  Tensor one_minus_t = add(neg(t), 1.0);
  Tensor bce = add(mul(t, log(add(p, kEpsilon))), mul(one_minus_t, log(add(add(neg(p), 1.0), kEpsilon))));
  return mean_last(neg(bce), op);
}

Tensor mean_squared_error(const Tensor& pred, const Tensor& target) {
  check_pred(pred, "mean_squared_error");
  return mean_last(square(sub(pred, matching_target(pred, target, "mean_squared_error"))), "mean_squared_error");
}

Tensor mean_absolute_error(const Tensor& pred, const Tensor& target) {
  check_pred(pred, "mean_absolute_error");
  return mean_last(abs(sub(pred, matching_target(pred, target, "mean_absolute_error"))), "mean_absolute_error");
}

}  // namespace keel::ops
