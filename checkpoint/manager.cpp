#include "keel/checkpoint/manager.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>

#include "keel/graph/error.h"

namespace keel {
namespace {

void make_dirs(const std::string& dir) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      KEEL_FAIL("CheckpointManager: cannot create directory '", partial, "': ", std::strerror(errno));
    }
  }
}

// Two prefixes naming one checkpoint (one spelled relative, the other absolute): the same .index file.
bool same_checkpoint(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa, sb;
  return ::stat((a + ".index").c_str(), &sa) == 0 && ::stat((b + ".index").c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool is_data_file_of(const std::string& file, const std::string& base) {
  // base.data-?????-of-?????
  const std::string head = base + ".data-";
  if (file.size() != head.size() + 14 || file.compare(0, head.size(), head) != 0) return false;
  const std::string tail = file.substr(head.size());
  for (size_t i = 0; i < tail.size(); ++i) {
    const bool digit = tail[i] >= '0' && tail[i] <= '9';
    if ((i >= 5 && i < 9) ? tail.compare(5, 4, "-of-") != 0 : !digit) return false;
  }
  return true;
}

void remove_checkpoint_files(const std::string& prefix) {
  const size_t slash = prefix.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : prefix.substr(0, slash);
  const std::string base = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
  ::unlink((prefix + ".index").c_str());  // the commit marker goes first
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> data;
  while (dirent* e = ::readdir(d)) {
    if (is_data_file_of(e->d_name, base)) data.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const auto& f : data) ::unlink(f.c_str());
}

std::string relative_to(const std::string& dir, const std::string& path) {
  if (path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/') {
    return path.substr(dir.size() + 1);
  }
  return path;
}

}  // namespace

CheckpointManager::CheckpointManager(Checkpoint& checkpoint, std::string directory,
                                     std::optional<int> max_to_keep,
                                     std::optional<double> keep_checkpoint_every_n_hours,
                                     std::string checkpoint_name)
    : CheckpointManager(checkpoint, std::move(directory),
                        CheckpointManagerOptions()
                            .max_to_keep(max_to_keep)
                            .keep_checkpoint_every_n_hours(keep_checkpoint_every_n_hours)
                            .checkpoint_name(std::move(checkpoint_name))) {}

CheckpointManager::CheckpointManager(Checkpoint& checkpoint, std::string directory,
                                     CheckpointManagerOptions options)
    : checkpoint_(checkpoint), directory_(std::move(directory)), options_(std::move(options)) {
  KEEL_CHECK(!directory_.empty(), "CheckpointManager: empty directory");
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
  KEEL_CHECK(!options_.name_.empty() && options_.name_.find('/') == std::string::npos,
             "CheckpointManager: checkpoint_name '", options_.name_, "' must be a non-empty file name");
  KEEL_CHECK(!options_.max_to_keep_ || *options_.max_to_keep_ > 0,
             "CheckpointManager: max_to_keep must be a positive number or std::nullopt (keep all), got ",
             options_.max_to_keep_.value_or(0));
  KEEL_CHECK(!options_.keep_every_n_hours_ || *options_.keep_every_n_hours_ > 0,
             "CheckpointManager: keep_checkpoint_every_n_hours must be positive, got ",
             *options_.keep_every_n_hours_);
  KEEL_CHECK(!options_.interval_ || options_.step_counter_.defined(),
             "CheckpointManager: checkpoint_interval ", options_.interval_.value_or(0),
             " needs a step_counter (an integer scalar Variable), none was given");
  if (options_.step_counter_.defined()) {
    const Variable& c = options_.step_counter_;
    KEEL_CHECK(c.shape().empty() && is_integral(c.dtype()), "CheckpointManager: step_counter '", c.name(),
               "' must be an integer scalar, got ", shape_str(c.shape()), " ", dtype_name(c.dtype()));
  }
  make_dirs(directory_);
  prefix_ = directory_ + "/" + options_.name_;
  const double clock = now();
  auto state = read_checkpoint_state(directory_);
  if (!state) {
    last_preserved_ = clock - 1.0;
    return;
  }
  last_preserved_ = std::min(state->last_preserved_timestamp, clock);
  auto timestamps = state->all_model_checkpoint_timestamps;
  const auto& paths = state->all_model_checkpoint_paths;
  if (timestamps.size() != paths.size()) timestamps.assign(paths.size(), last_preserved_);
  for (size_t i = 0; i < paths.size(); ++i) {
    const double t = std::min(timestamps[i], clock);
    if (t > last_preserved_) maybe_delete_.emplace_back(resolve_checkpoint_path(directory_, paths[i]), t);
  }
  const std::string latest = resolve_checkpoint_path(directory_, state->model_checkpoint_path);
  if (!state->model_checkpoint_path.empty() && checkpoint_exists(latest)) {
    latest_ = latest;
  } else {
    for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
      if (checkpoint_exists(resolve_checkpoint_path(directory_, *it))) {
        latest_ = resolve_checkpoint_path(directory_, *it);
        break;
      }
    }
  }
}

double CheckpointManager::now() const {
  if (options_.clock_) return options_.clock_();
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

void CheckpointManager::stage(const char* name) const {
  if (options_.hook_) options_.hook_(name);
}

std::vector<std::string> CheckpointManager::checkpoints() const {
  std::vector<std::string> out;
  for (const auto& [p, t] : maybe_delete_) out.push_back(p);
  return out;
}

int64_t CheckpointManager::current_step() const {
  return static_cast<int64_t>(options_.step_counter_.value().item_double());
}

std::optional<std::string> CheckpointManager::save(std::optional<int64_t> checkpoint_number, bool check_interval) {
  if (options_.interval_) {
    const int64_t step = current_step();
    if (last_checkpoint_step_) {
      if (step == *last_checkpoint_step_) return std::nullopt;
      if (check_interval && step < *last_checkpoint_step_ + *options_.interval_) return std::nullopt;
    }
    last_checkpoint_step_ = step;
  }
  Variable counter = checkpoint_.save_counter();
  const int64_t next = counter.value().item<int64_t>() + 1;
  counter.assign(Tensor::from_vector<int64_t>({next}, Shape{}));
  const int64_t number = checkpoint_number.value_or(next);
  const std::string path = checkpoint_.write(prefix_ + "-" + std::to_string(number));
  stage("bundle_written");
  const double timestamp = now();
  maybe_delete_.erase(std::remove_if(maybe_delete_.begin(), maybe_delete_.end(),
                                     [&](const auto& e) { return e.first == path; }),
                      maybe_delete_.end());
  maybe_delete_.emplace_back(path, timestamp);
  latest_ = path;
  // Name the new checkpoint before deleting anything; a crash while deleting then still finds it.
  record_state();
  sweep();
  record_state();
  stage("saved");
  return path;
}

void CheckpointManager::record_state() {
  CheckpointStateFile s;
  s.model_checkpoint_path = latest_ ? relative_to(directory_, *latest_) : "";
  for (const auto& [p, t] : maybe_delete_) {
    s.all_model_checkpoint_paths.push_back(relative_to(directory_, p));
    s.all_model_checkpoint_timestamps.push_back(t);
  }
  s.last_preserved_timestamp = last_preserved_;
  write_checkpoint_state(directory_, s, options_.hook_);
}

void CheckpointManager::sweep() {
  if (!options_.max_to_keep_) return;
  const size_t keep = static_cast<size_t>(*options_.max_to_keep_);
  const auto pending = checkpoint_.pending_restore();
  bool deleted = false;
  // The oldest beyond the newest `keep` go, but for one whose restored values still wait (kept listed).
  size_t excess = maybe_delete_.size() > keep ? maybe_delete_.size() - keep : 0;
  size_t i = 0;
  for (; excess > 0; --excess) {
    const auto [path, timestamp] = maybe_delete_[i];
    if (pending && same_checkpoint(path, pending->prefix)) {
      // Values restored from it have not reached their objects yet: it is their only copy.
      std::cerr << "keel: warning: CheckpointManager: keeping '" << path << "' past max_to_keep: "
                << pending->objects << " object(s) restored from it wait to be created (a model not built yet?)"
                << " and the newer checkpoints do not hold their values\n";
      ++i;
      continue;
    }
    maybe_delete_.erase(maybe_delete_.begin() + static_cast<std::ptrdiff_t>(i));
    if (options_.keep_every_n_hours_ &&
        timestamp - *options_.keep_every_n_hours_ * 3600.0 >= last_preserved_) {
      last_preserved_ = timestamp;  // preserved on disk, no longer listed
      continue;
    }
    stage("deleting");
    remove_checkpoint_files(path);
    deleted = true;
  }
  if (deleted) {
    fsync_directory(directory_);
    stage("deleted");
  }
}

std::optional<std::string> CheckpointManager::restore_or_initialize() {
  if (!latest_) {
    if (options_.init_fn_) options_.init_fn_();
    return std::nullopt;
  }
  checkpoint_.restore(*latest_).expect_partial();
  if (options_.interval_) last_checkpoint_step_ = current_step();
  return latest_;
}

}  // namespace keel
