#include "keel/keras/callbacks/progbar_logger.h"

#include <iostream>

namespace keel::keras {

ProgbarLogger::ProgbarLogger(ProgbarOptions options) : options_(std::move(options)) {}

void ProgbarLogger::set_params(const CallbackParams& params) {
  Callback::set_params(params);
  options_.verbose(params.verbose);
}

void ProgbarLogger::reset() {
  seen_ = 0;
  std::optional<int64_t> target;
  if (params().steps > 0) target = params().steps;
  bar_ = std::make_unique<Progbar>(target, options_);
}

void ProgbarLogger::on_train_begin(Logs&) { called_in_fit_ = true; }
void ProgbarLogger::on_train_end(Logs&) { called_in_fit_ = false; }

void ProgbarLogger::on_epoch_begin(int epoch, Logs&) {
  reset();
  if (params().verbose != 0 && params().epochs > 1) {
    std::ostream& out = options_.out() ? *options_.out() : std::cout;
    out << "Epoch " << (epoch + 1) << "/" << params().epochs << "\n" << std::flush;
  }
}

void ProgbarLogger::batch_update(int64_t batch, const Logs& logs) {
  if (!bar_) reset();
  seen_ = batch + 1;
  if (params().verbose == 1) bar_->update(seen_, logs, /*finalize=*/false);
}

void ProgbarLogger::finalize(const Logs& logs) {
  if (!bar_) reset();
  if (!bar_->target()) bar_->set_target(seen_);
  if (params().verbose != 0) bar_->update(*bar_->target(), logs, /*finalize=*/true);
}

void ProgbarLogger::on_train_batch_end(int64_t batch, Logs& logs) { batch_update(batch, logs); }
void ProgbarLogger::on_epoch_end(int, Logs& logs) { finalize(logs); }

void ProgbarLogger::on_test_begin(Logs&) {
  if (!called_in_fit_) reset();
}
void ProgbarLogger::on_test_batch_end(int64_t batch, Logs& logs) {
  if (!called_in_fit_) batch_update(batch, logs);
}
void ProgbarLogger::on_test_end(Logs& logs) {
  if (!called_in_fit_) finalize(logs);
}
void ProgbarLogger::on_predict_begin(Logs&) { reset(); }
void ProgbarLogger::on_predict_batch_end(int64_t batch, Logs&) { batch_update(batch, Logs()); }
void ProgbarLogger::on_predict_end(Logs&) { finalize(Logs()); }

}  // namespace keel::keras
