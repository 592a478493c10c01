#include "keel/keras/callbacks/history.h"

#include <algorithm>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/state_io.h"

namespace keel::keras {

namespace {
constexpr unsigned kHistoryVersion = 1;
}

void History::on_train_begin(Logs&) {
  if (restored_) {  // resuming from a checkpoint: keep the epochs already recorded
    restored_ = false;
    return;
  }
  epochs_.clear();
  history_.clear();
}

void History::on_train_end(Logs&) {
  restored_ = false;  // a state restored after on_train_begin (BackupAndRestore) must not skip the next reset
}

void History::on_epoch_end(int epoch, Logs& logs) {
  epochs_.push_back(epoch);
  for (const auto& [k, v] : logs) {
    auto it = std::find_if(history_.begin(), history_.end(), [&](const auto& e) { return e.first == k; });
    if (it == history_.end()) {
      history_.emplace_back(k, std::vector<double>{});
      it = history_.end() - 1;
    }
    it->second.push_back(v);
  }
}

std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  for (const auto& e : history_) out.push_back(e.first);
  return out;
}

bool History::contains(const std::string& key) const {
  for (const auto& e : history_)
    if (e.first == key) return true;
  return false;
}

const std::vector<double>& History::at(const std::string& key) const {
  for (const auto& e : history_)
    if (e.first == key) return e.second;
  std::string present;
  for (const auto& e : history_) present += (present.empty() ? "" : ", ") + e.first;
  KEEL_FAIL("History has no '", key, "' (present: ", present, ")");
}

std::string History::save_state() const {
  return detail::write_state("History", kHistoryVersion, [&](detail::OArchive& ar) {
    detail::put_vector(ar, epochs_);
    const uint64_t n = history_.size();
    ar << n;
    for (const auto& [k, v] : history_) {
      detail::put_string(ar, k);
      detail::put_vector(ar, v);
    }
  });
}

void History::restore_state(const std::string& bytes) {
  std::vector<int> epochs;
  std::vector<std::pair<std::string, std::vector<double>>> history;
  detail::read_state(bytes, "History", kHistoryVersion, [&](detail::IArchive& ar, unsigned) {
    detail::get_vector(ar, epochs);
    uint64_t n = 0;
    ar >> n;
    for (uint64_t i = 0; i < n; ++i) {
      std::string key = detail::get_string(ar);
      std::vector<double> values;
      detail::get_vector(ar, values);
      history.emplace_back(std::move(key), std::move(values));
    }
  });
  epochs_ = std::move(epochs);
  history_ = std::move(history);
  restored_ = true;
}

}  // namespace keel::keras
