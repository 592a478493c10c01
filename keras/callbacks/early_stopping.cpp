#include "keel/keras/callbacks/early_stopping.h"

#include <cmath>
#include <iostream>
#include <limits>

#include "keel/graph/error.h"
#include "keel/graph/node.h"
#include "keel/keras/callbacks/state_io.h"

namespace keel::keras {

namespace {

constexpr unsigned kEarlyStoppingVersion = 1;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  const std::string& mode = options_.mode();
  KEEL_CHECK(mode == "auto" || mode == "min" || mode == "max", "EarlyStopping: mode '", mode,
             "' is not one of auto, min, max");
  if (mode == "min")
    maximize_ = false;
  else if (mode == "max")
    maximize_ = true;
  else
    maximize_ = ends_with(options_.monitor(), "acc") || ends_with(options_.monitor(), "accuracy") ||
                ends_with(options_.monitor(), "auc");
  min_delta_ = maximize_ ? std::abs(options_.min_delta()) : -std::abs(options_.min_delta());
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

std::ostream& EarlyStopping::out() const { return options_.out() ? *options_.out() : std::cout; }

bool EarlyStopping::is_improvement(double value, double reference) const {
  return maximize_ ? value - min_delta_ > reference : value - min_delta_ < reference;
}

std::vector<Tensor> EarlyStopping::copy_weights() const {
  KEEL_CHECK(control() && control()->weights, "EarlyStopping(restore_best_weights): the training loop gave no access "
             "to the model's weights (TrainingControl::weights)");
  std::vector<Tensor> out;
  for (const Variable& v : control()->weights()) out.push_back(v.value().detach().clone());
  return out;
}

void EarlyStopping::set_weights(const std::vector<Tensor>& values) const {
  KEEL_CHECK(control() && control()->weights, "EarlyStopping(restore_best_weights): no access to the model's weights");
  const std::vector<Variable> vars = control()->weights();
  KEEL_CHECK(vars.size() == values.size(), "EarlyStopping: the model has ", vars.size(),
             " weights, the best epoch's copy has ", values.size());
  NoGradGuard no_grad;
  for (size_t i = 0; i < vars.size(); ++i) vars[i].assign(values[i]);
}

void EarlyStopping::on_train_begin(Logs&) {
  if (restored_) {  // resuming: keep wait/best from the checkpoint
    restored_ = false;
    return;
  }
  wait_ = 0;
  stopped_epoch_ = 0;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  best_weights_.clear();
  has_best_weights_ = false;
  best_epoch_ = 0;
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  const std::optional<double> current = logs.get(options_.monitor());
  if (!current) {
    out() << "WARNING: Early stopping conditioned on metric `" << options_.monitor()
          << "` which is not available. Available metrics are: " << logs.joined_keys() << "\n";
    return;
  }
  if (epoch < options_.start_from_epoch()) return;
  if (options_.restore_best_weights() && !has_best_weights_) {
    best_weights_ = copy_weights();  // the first epoch's weights, if nothing ever improves
    has_best_weights_ = true;
    best_epoch_ = epoch;
  }
  wait_ += 1;
  if (is_improvement(*current, best_)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights()) best_weights_ = copy_weights();
    // Only restart wait if we beat both the baseline and our previous best.
    if (!options_.baseline() || is_improvement(*current, *options_.baseline())) wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience() && epoch > 0) {
    stopped_epoch_ = epoch;
    if (control()) control()->stop_training = true;
    if (options_.restore_best_weights() && has_best_weights_) {
      if (options_.verbose() > 0)
        out() << "Restoring model weights from the end of the best epoch: " << (best_epoch_ + 1) << ".\n";
      set_weights(best_weights_);
    }
  }
}

void EarlyStopping::on_train_end(Logs&) {
  restored_ = false;  // a state restored after on_train_begin (BackupAndRestore) must not skip the next reset
  if (stopped_epoch_ > 0 && options_.verbose() > 0) out() << "Epoch " << (stopped_epoch_ + 1) << ": early stopping\n";
}

std::string EarlyStopping::save_state() const {
  return detail::write_state("EarlyStopping", kEarlyStoppingVersion, [&](detail::OArchive& ar) {
    ar << wait_ << stopped_epoch_ << best_epoch_;
    detail::put_double(ar, best_);
    const uint64_t n = has_best_weights_ ? best_weights_.size() : 0;
    const bool has = has_best_weights_;
    ar << has << n;
    for (uint64_t i = 0; i < n; ++i) {
      const Tensor& t = best_weights_[i];
      ar << static_cast<int32_t>(t.dtype());
      detail::put_vector(ar, std::vector<int64_t>(t.shape().begin(), t.shape().end()));
      std::vector<double> values(static_cast<size_t>(t.numel()));
      dispatch_numeric(t.dtype(), "EarlyStopping state", [&](auto z) {
        using T = decltype(z);
        const T* p = t.data<T>();
        for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<double>(p[k]);
      });
      detail::put_vector(ar, values);
    }
  });
}

void EarlyStopping::restore_state(const std::string& bytes) {
  int wait = 0, stopped = 0, best_epoch = 0;
  double best = 0;
  bool has = false;
  std::vector<Tensor> weights;
  detail::read_state(bytes, "EarlyStopping", kEarlyStoppingVersion, [&](detail::IArchive& ar, unsigned) {
    ar >> wait >> stopped >> best_epoch;
    best = detail::get_double(ar);
    uint64_t n = 0;
    ar >> has >> n;
    for (uint64_t i = 0; i < n; ++i) {
      int32_t code = 0;
      ar >> code;
      KEEL_CHECK(code >= 0 && code <= static_cast<int32_t>(DType::boolean), "EarlyStopping state: weight #", i,
                 " has an unknown dtype code ", code);
      std::vector<int64_t> dims;
      detail::get_vector(ar, dims);
      std::vector<double> values;
      detail::get_vector(ar, values);
      const Shape shape(dims.begin(), dims.end());
      const int64_t numel = checked_numel(shape, "EarlyStopping state weight");
      KEEL_CHECK(numel == static_cast<int64_t>(values.size()), "EarlyStopping state: weight #", i, " has shape ",
                 shape_str(shape), " but ", values.size(), " values");
      Tensor t = Tensor::zeros(shape, static_cast<DType>(code));
      dispatch_numeric(t.dtype(), "EarlyStopping state", [&](auto z) {
        using T = decltype(z);
        T* p = t.data<T>();
        for (size_t k = 0; k < values.size(); ++k) p[k] = static_cast<T>(values[k]);
      });
      weights.push_back(t);
    }
  });
  wait_ = wait;
  stopped_epoch_ = stopped;
  best_epoch_ = best_epoch;
  best_ = best;
  has_best_weights_ = has;
  best_weights_ = std::move(weights);
  restored_ = true;
}

}  // namespace keel::keras
