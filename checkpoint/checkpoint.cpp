#include "keel/checkpoint/checkpoint.h"

#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"
#include "keel/checkpoint/restore.h"
#include "keel/graph/error.h"

namespace keel {
namespace {

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

std::string dirname_of(const std::string& prefix) {
  const size_t slash = prefix.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : prefix.substr(0, slash);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string basename_of(const std::string& prefix) {
  const size_t slash = prefix.rfind('/');
  return slash == std::string::npos ? prefix : prefix.substr(slash + 1);
}

}  // namespace

// ---- CheckpointLoadStatus

struct CheckpointLoadStatus::Token {
  std::weak_ptr<detail::Restorer> restorer;
  bool checked = false;
  ~Token() {
    auto r = restorer.lock();
    if (checked || !r) return;
    const auto unused = r->unused_checkpoint_keys();
    if (unused.empty()) return;
    std::cerr << "keel: warning: checkpoint '" << r->prefix() << "': " << unused.size()
              << " value(s) were not restored, first '" << unused.front()
              << "' (call expect_partial() if this is intended)\n";
  }
};

CheckpointLoadStatus::CheckpointLoadStatus(std::shared_ptr<detail::Restorer> r, std::shared_ptr<Trackable> root)
    : r_(std::move(r)), root_(std::move(root)), token_(std::make_shared<Token>()) {
  token_->restorer = r_;
}

const CheckpointLoadStatus& CheckpointLoadStatus::assert_consumed() const {
  token_->checked = true;
  check_specified();
  const auto keys = r_->unused_checkpoint_keys();
  const auto live = r_->unmatched_live_objects(root_);
  KEEL_CHECK(keys.empty() && live.empty(), "restore '", r_->prefix(), "': not consumed: ", keys.size(),
             " checkpoint value(s) not restored", keys.empty() ? "" : " [" + join_list(keys) + "]", "; ",
             live.size(), " live object(s) not matched", live.empty() ? "" : " [" + join_list(live) + "]");
  return *this;
}

const CheckpointLoadStatus& CheckpointLoadStatus::assert_existing_objects_matched() const {
  token_->checked = true;
  check_specified();
  const auto keys = r_->unrestored_matched_keys();
  const auto live = r_->unmatched_live_objects(root_);
  KEEL_CHECK(keys.empty() && live.empty(), "restore '", r_->prefix(), "': existing objects not matched: ",
             live.size(), " live object(s) without a checkpoint value",
             live.empty() ? "" : " [" + join_list(live) + "]", "; ", keys.size(),
             " value(s) of matched objects not restored", keys.empty() ? "" : " [" + join_list(keys) + "]");
  return *this;
}

const CheckpointLoadStatus& CheckpointLoadStatus::assert_nontrivial_match() const {
  token_->checked = true;
  check_specified();
  if (r_->nontrivial_matches() > 0) return *this;
  const auto live = r_->unmatched_live_objects(root_);
  KEEL_CHECK(!live.empty(), "restore '", r_->prefix(), "': nothing to load: the root has no dependencies yet");
  KEEL_FAIL("restore '", r_->prefix(), "': nothing except the root object matched a checkpointed value (the ",
            "checkpoint does not match the program); ", live.size(), " live object(s) without a value [",
            join_list(live), "]; checkpoint objects not matched [", join_list(r_->unmatched_checkpoint_objects()), "]");
}

void CheckpointLoadStatus::check_specified() const {
  KEEL_CHECK(r_ != nullptr, "restore: no checkpoint specified (std::nullopt); nothing is being restored");
}

const CheckpointLoadStatus& CheckpointLoadStatus::expect_partial() const {
  token_->checked = true;
  return *this;
}

const std::string& CheckpointLoadStatus::path() const {
  static const std::string none;
  return r_ ? r_->prefix() : none;
}
std::vector<std::string> CheckpointLoadStatus::unused_checkpoint_keys() const {
  return r_ ? r_->unused_checkpoint_keys() : std::vector<std::string>{};
}
std::vector<std::string> CheckpointLoadStatus::unmatched_checkpoint_objects() const {
  return r_ ? r_->unmatched_checkpoint_objects() : std::vector<std::string>{};
}
std::vector<std::string> CheckpointLoadStatus::unmatched_live_objects() const {
  return r_ ? r_->unmatched_live_objects(root_) : std::vector<std::string>{};
}
size_t CheckpointLoadStatus::restored_count() const { return r_ ? r_->restored_count() : 0; }

// ---- Checkpoint

Checkpoint::Checkpoint(std::initializer_list<std::pair<std::string, Item>> items)
    : Checkpoint(std::vector<std::pair<std::string, Item>>(items)) {}

Checkpoint::Checkpoint(const std::vector<std::pair<std::string, Item>>& items)
    : root_(std::make_shared<Trackable>()) {
  std::map<std::string, const Item*> sorted;
  for (const auto& [name, item] : items) {
    KEEL_CHECK(!name.empty(), "Checkpoint: empty name for a root object");
    KEEL_CHECK(name != "save_counter", "Checkpoint: 'save_counter' is reserved for the save counter");
    KEEL_CHECK(item.object || item.variable.defined(), "Checkpoint: root object '", name, "' is null");
    KEEL_CHECK(sorted.emplace(name, &item).second, "Checkpoint: root name '", name, "' given twice");
  }
  for (const auto& [name, item] : sorted) {
    if (item->object) {
      root_->track(name, item->object);
    } else {
      root_->track_variable(name, item->variable);
    }
  }
}

Variable Checkpoint::save_counter() {
  if (!counter_.defined()) {
    counter_ = Variable("save_counter", Tensor::scalar(0, DType::i64), /*trainable=*/false);
    root_->track_variable("save_counter", counter_);  // applies a restore deferred on the root
  }
  return counter_;
}

void write_graph_bundle(const std::shared_ptr<Trackable>& root, const std::string& prefix) {
  const auto nodes = walk_live_graph(root);
  const auto graph = build_object_graph(nodes);
  BundleWriter w(prefix);
  w.add(kObjectGraphKey, Tensor::strings({serialize_object_graph(graph)}, {}));
  for (size_t id = 0; id < nodes.size(); ++id) {
    const auto& n = nodes[id];
    for (const auto& a : graph.nodes(static_cast<int>(id)).attributes()) {
      if (a.name() == kVariableValueName) {
        w.add(a.checkpoint_key(), n.variable.value());
      } else if (a.name() == kStateAttributeName) {
        w.add(a.checkpoint_key(), Tensor::strings({n.object->save_state()}, {}));
      }
    }
  }
  w.finish();
}

std::string Checkpoint::write(const std::string& prefix) {
  KEEL_CHECK(!prefix.empty(), "Checkpoint::write: empty prefix");
  if (const auto pending = pending_restore()) {
    std::cerr << "keel: warning: writing '" << prefix << "' while " << pending->objects << " object(s) restored from '"
              << pending->prefix << "' wait to be created (a model not built yet?): '" << prefix
              << "' does not hold their values\n";
  }
  write_graph_bundle(root_, prefix);
  return prefix;
}

std::optional<Checkpoint::PendingRestore> Checkpoint::pending_restore() const {
  const auto r = last_restore_.lock();
  if (!r) return std::nullopt;
  const size_t n = r->pending_count();
  if (n == 0) return std::nullopt;
  return PendingRestore{r->prefix(), n};
}

std::string Checkpoint::save(const std::string& prefix) {
  Variable counter = save_counter();
  const int64_t next = counter.value().item<int64_t>() + 1;
  counter.assign(Tensor::from_vector<int64_t>({next}, Shape{}));
  const std::string path = write(prefix + "-" + std::to_string(next));
  CheckpointStateFile state;
  state.model_checkpoint_path = basename_of(path);
  state.all_model_checkpoint_paths = {state.model_checkpoint_path};
  write_checkpoint_state(dirname_of(path), state);
  return path;
}

CheckpointLoadStatus Checkpoint::read(const std::string& prefix) {
  auto r = std::make_shared<detail::Restorer>(prefix);
  r->restore_into(root_);
  last_restore_ = r;
  return CheckpointLoadStatus(r, root_);
}

CheckpointLoadStatus Checkpoint::restore(std::nullopt_t) {
  save_counter();
  return CheckpointLoadStatus(nullptr, root_);
}

CheckpointLoadStatus Checkpoint::restore(const std::string& prefix) {
  // As tf.train.Checkpoint.restore: a SavedModel directory means its variables/ bundle, and a missing
  // checkpoint gets a hint instead of a bare "cannot open".
  const std::string dir = prefix.size() > 1 && prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
  const bool is_dir = is_directory(dir);
  std::string path = prefix;
  if (is_dir && (file_exists(dir + "/saved_model.pb") || file_exists(dir + "/saved_model.pbtxt"))) {
    path = dir + "/variables/variables";
  }
  if (!file_exists(path + ".index")) {
    KEEL_CHECK(!is_dir || !file_exists(dir + "/" + kCheckpointStateFilename), "restore: '", prefix,
               "' is a checkpoint directory, not a checkpoint: pass latest_checkpoint('", dir, "')");
    KEEL_FAIL("restore: no checkpoint at '", prefix, "' (no ", path, ".index); double-check the path, you may be ",
              "missing the checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1')");
  }
  save_counter();
  return read(path);
}

}  // namespace keel
