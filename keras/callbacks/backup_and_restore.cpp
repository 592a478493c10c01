#include "keel/keras/callbacks/backup_and_restore.h"

#include <filesystem>
#include <map>

#include "keel/checkpoint/variables_match.h"
#include "keel/graph/error.h"
#include "keel/keras/model.h"
#include "keel/keras/training_state.h"

namespace keel::keras {

namespace {

struct Node : Trackable {};  // the "callbacks" container

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

BackupAndRestore::BackupAndRestore(std::string backup_dir, SaveFreq save_freq, bool delete_checkpoint)
    : backup_dir_(std::move(backup_dir)), save_freq_(save_freq), delete_checkpoint_(delete_checkpoint) {
  KEEL_CHECK(!backup_dir_.empty(), "BackupAndRestore: empty backup_dir");
  while (backup_dir_.size() > 1 && backup_dir_.back() == '/') backup_dir_.pop_back();
}

BackupAndRestore::~BackupAndRestore() = default;

std::shared_ptr<Trackable> BackupAndRestore::callbacks_node() const {
  auto node = std::make_shared<Node>();
  std::map<std::string, int> seen;
  for (const auto& cb : *control()->callbacks) {
    if (cb.get() == this || std::dynamic_pointer_cast<BackupAndRestore>(cb)) continue;
    if (!cb->has_state() && cb->trackable_children().empty()) continue;
    const std::string cls = cb->class_name();
    const int k = seen[cls]++;
    node->track(k == 0 ? cls : cls + "_" + std::to_string(k), cb);
  }
  return node;
}

void BackupAndRestore::on_train_begin(Logs&) {
  KEEL_CHECK(model() != nullptr && control() != nullptr && control()->state != nullptr &&
                 control()->callbacks != nullptr,
             "BackupAndRestore('", backup_dir_, "'): works only in Model::fit (it needs the model and the loop's "
             "state)");
  manager_.reset();
  checkpoint_ = std::make_unique<Checkpoint>(std::vector<std::pair<std::string, Checkpoint::Item>>{
      {"model", shared_or_alias(*model())},
      {"training_state", shared_or_alias(*control()->state)},
      {"callbacks", callbacks_node()}});
  manager_ = std::make_unique<CheckpointManager>(*checkpoint_, checkpoint_dir(),
                                                 CheckpointManagerOptions().max_to_keep(1).hook(hook_));
  restored_from_.reset();
  if (const auto latest = manager_->latest_checkpoint()) restore(*latest);
}

void BackupAndRestore::restore(const std::string& prefix) {
  const std::string what = "BackupAndRestore: backup " + prefix;
  // A backup of another model fails here, before anything is assigned.
  check_variables_match(checkpoint_->root(), prefix, "model/", what);
  const CheckpointLoadStatus status = checkpoint_->restore(prefix);
  status.expect_partial();
  std::vector<std::string> missing;
  for (const auto& p : status.unmatched_live_objects()) {
    if (p == "training_state" || starts_with(p, "model/")) missing.push_back(p);
  }
  KEEL_CHECK(missing.empty(), what, " lacks ", join(missing));
  if (model()->built()) {  // an unbuilt model restores its weights when it builds (deferred)
    std::vector<std::string> unused;
    for (const auto& k : status.unused_checkpoint_keys()) {
      if (starts_with(k, "model/")) unused.push_back(k);
    }
    KEEL_CHECK(unused.empty(), what, " holds values this model has no variable for (another model?): ", join(unused));
  }
  restored_from_ = prefix;
}

void BackupAndRestore::back_up() {
  KEEL_CHECK(manager_ != nullptr, "BackupAndRestore: a backup was asked for outside fit (no on_train_begin)");
  manager_->save();
}

void BackupAndRestore::on_train_batch_end(int64_t, Logs&) {
  if (save_freq_.per_epoch()) return;
  if (control()->state->global_step() % save_freq_.batches() == 0) back_up();
}

void BackupAndRestore::on_epoch_end(int, Logs&) {
  if (save_freq_.per_epoch()) back_up();
}

void BackupAndRestore::on_train_end(Logs&) {
  manager_.reset();
  checkpoint_.reset();
  if (!delete_checkpoint_) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(checkpoint_dir(), ec);
  KEEL_CHECK(!ec, "BackupAndRestore: cannot remove the backup ", checkpoint_dir(), ": ", ec.message());
  if (fs::is_directory(backup_dir_, ec) && fs::is_empty(backup_dir_, ec)) fs::remove(backup_dir_, ec);
}

}  // namespace keel::keras
