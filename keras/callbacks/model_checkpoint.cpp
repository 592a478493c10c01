#include "keel/keras/callbacks/model_checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <regex>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/format_path.h"
#include "keel/keras/callbacks/state_io.h"
#include "keel/keras/model.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/weights.h"

namespace keel::keras {

namespace fs = std::filesystem;

namespace {

constexpr unsigned kModelCheckpointVersion = 1;

std::string fmt5(double v) { return format_value(v, ".5f"); }

// Removes what a save to `path` wrote: the file or directory at `path`, and a bundle's
// `path`.index and `path`.data-NNNNN-of-NNNNN. Failures throw naming the file.
void remove_saved(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  auto remove_one = [&](const fs::path& f) {
    fs::remove_all(f, ec);
    KEEL_CHECK(!ec, "ModelCheckpoint(max_to_keep): cannot delete '", f.string(), "': ", ec.message());
  };
  if (fs::exists(fs::symlink_status(p, ec))) remove_one(p);
  const fs::path index = path + ".index";
  if (fs::exists(fs::symlink_status(index, ec))) remove_one(index);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string base = p.filename().string();
  const std::regex data_file("\\.data-[0-9]{5}-of-[0-9]{5}");
  std::vector<fs::path> shards;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > base.size() && name.compare(0, base.size(), base) == 0 &&
        std::regex_match(name.substr(base.size()), data_file))
      shards.push_back(it->path());
  }
  for (const auto& f : shards) remove_one(f);
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), options_(std::move(options)) {
  KEEL_CHECK(!filepath_.empty(), "ModelCheckpoint: empty filepath");
  const std::string& mode = options_.mode();
  KEEL_CHECK(mode == "auto" || mode == "min" || mode == "max", "ModelCheckpoint: mode '", mode,
             "' is not one of auto, min, max");
  KEEL_CHECK(options_.period() >= 1, "ModelCheckpoint: period must be at least 1, got ", options_.period());
  KEEL_CHECK(options_.max_to_keep() >= 0, "ModelCheckpoint: max_to_keep must not be negative, got ",
             options_.max_to_keep());
  const std::string& monitor = options_.monitor();
  if (mode == "min")
    maximize_ = false;
  else if (mode == "max")
    maximize_ = true;
  else
    maximize_ = monitor.find("acc") != std::string::npos || monitor.rfind("fmeasure", 0) == 0;
  best_ = options_.initial_value_threshold()
              ? *options_.initial_value_threshold()
              : (maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
}

std::ostream& ModelCheckpoint::out() const { return options_.out() ? *options_.out() : std::cout; }

std::string ModelCheckpoint::file_path(int epoch, int64_t batch, const Logs& logs) const {
  FormatArgs args{{"epoch", int64_t{epoch} + 1}};
  if (batch >= 0 && !logs.contains("batch")) args.emplace_back("batch", batch + 1);
  for (const auto& [key, value] : logs) args.emplace_back(key, value);
  return format_fields(filepath_, args);
}

void ModelCheckpoint::on_epoch_begin(int epoch, Logs&) { current_epoch_ = epoch; }

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  epochs_since_last_save_ += 1;
  if (options_.save_freq().per_epoch()) maybe_save(epoch, -1, logs);
}

void ModelCheckpoint::on_train_batch_end(int64_t batch, Logs& logs) {
  if (should_save_on_batch(batch)) maybe_save(current_epoch_, batch, logs);
}

bool ModelCheckpoint::should_save_on_batch(int64_t batch) {
  if (options_.save_freq().per_epoch()) return false;
  // Keras's count across epochs: a batch index not above the last one seen starts a new epoch.
  const int64_t added = batch <= last_batch_seen_ ? batch + 1 : batch - last_batch_seen_;
  batches_since_last_save_ += added;
  last_batch_seen_ = batch;
  if (batches_since_last_save_ >= options_.save_freq().batches()) {
    batches_since_last_save_ = 0;
    return true;
  }
  return false;
}

void ModelCheckpoint::maybe_save(int epoch, int64_t batch, const Logs& logs) {
  if (options_.save_freq().per_epoch() && epochs_since_last_save_ < options_.period()) return;
  epochs_since_last_save_ = 0;
  const std::string path = file_path(epoch, batch, logs);
  const std::string& monitor = options_.monitor();
  if (!options_.save_best_only()) {
    if (options_.verbose() > 0) out() << "\nEpoch " << (epoch + 1) << ": saving model to " << path << "\n";
    write(path);
    return;
  }
  const std::optional<double> current = logs.get(monitor);
  if (!current) {
    out() << "WARNING: Can save best model only with " << monitor << " available, skipping.\n";
    return;
  }
  const bool improved = maximize_ ? *current > best_ : *current < best_;
  if (!improved) {
    if (options_.verbose() > 0)
      out() << "\nEpoch " << (epoch + 1) << ": " << monitor << " did not improve from " << fmt5(best_) << "\n";
    return;
  }
  if (options_.verbose() > 0)
    out() << "\nEpoch " << (epoch + 1) << ": " << monitor << " improved from " << fmt5(best_) << " to "
          << fmt5(*current) << ", saving model to " << path << "\n";
  write(path);
  best_ = *current;  // after the save: a failed save leaves the old best, as nothing better is on disk
}

void ModelCheckpoint::write(const std::string& path) {
  Model* m = model();
  KEEL_CHECK(m != nullptr, "ModelCheckpoint: no model to save to '", path,
             "' (the callback must be used by fit(), which sets it)");
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    KEEL_CHECK(!ec, "ModelCheckpoint: cannot create the directory '", p.parent_path().string(), "' for '", path,
               "': ", ec.message());
  }
  if (options_.save_weights_only())
    save_weights(*m, path);
  else
    keras::save_model(*m, path);
  rotate(path);
}

void ModelCheckpoint::rotate(const std::string& path) {
  if (options_.max_to_keep() == 0) return;
  kept_.erase(std::remove(kept_.begin(), kept_.end(), path), kept_.end());
  kept_.push_back(path);
  while (kept_.size() > static_cast<size_t>(options_.max_to_keep())) {
    remove_saved(kept_.front());
    kept_.erase(kept_.begin());
  }
}

std::string ModelCheckpoint::save_state() const {
  return detail::write_state("ModelCheckpoint", kModelCheckpointVersion, [&](detail::OArchive& ar) {
    detail::put_double(ar, best_);
    ar << epochs_since_last_save_ << batches_since_last_save_ << last_batch_seen_ << current_epoch_;
    const uint64_t n = kept_.size();
    ar << n;
    for (const auto& path : kept_) detail::put_string(ar, path);
  });
}

void ModelCheckpoint::restore_state(const std::string& bytes) {
  double best = 0;
  int epochs = 0, epoch = 0;
  int64_t batches = 0, last_batch = 0;
  std::vector<std::string> kept;
  detail::read_state(bytes, "ModelCheckpoint", kModelCheckpointVersion, [&](detail::IArchive& ar, unsigned) {
    best = detail::get_double(ar);
    ar >> epochs >> batches >> last_batch >> epoch;
    uint64_t n = 0;
    ar >> n;
    for (uint64_t i = 0; i < n; ++i) kept.push_back(detail::get_string(ar));
  });
  KEEL_CHECK(epochs >= 0 && batches >= 0 && last_batch >= 0 && epoch >= 0,
             "ModelCheckpoint state: negative counters (epochs since last save ", epochs, ", batches ", batches,
             ", last batch ", last_batch, ", epoch ", epoch, ")");
  best_ = best;
  epochs_since_last_save_ = epochs;
  batches_since_last_save_ = batches;
  last_batch_seen_ = last_batch;
  current_epoch_ = epoch;
  kept_ = std::move(kept);
}

}  // namespace keel::keras
