// Checkpoint: saves any object graph by object path and restores it exactly, in TensorFlow's
// object-based checkpoint format (a tensor bundle carrying `_CHECKPOINTABLE_OBJECT_GRAPH`).
//
//   Checkpoint ckpt({{"model", model}, {"optimizer", opt}, {"step", step_var}});
//   std::string path = ckpt.save("/tmp/run/ckpt");   // "/tmp/run/ckpt-1", bumps save_counter
//   ckpt.write("/tmp/export/weights");                // exactly that prefix, no counter change
//
//   Checkpoint fresh({{"model", model2}, {"optimizer", opt2}, {"step", step2}});
//   fresh.restore(path).assert_consumed();            // every value restored, every object matched
//
// Root children are listed in name order (as tf.train.Checkpoint sorts its keyword arguments), then
// save_counter once it exists. Restore matches the stored graph to live objects by walking named
// edges from the root; a value whose object does not exist yet waits on its parent and is applied
// when the parent tracks it. Restoring into a variable of another shape or dtype throws, naming the
// object path, the key and both shapes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "keel/checkpoint/trackable.h"

namespace keel {

namespace detail {
class Restorer;
}

// What restore()/read() matched. Copies share one status; deferred restores applied later show up
// in it. If no assert_*() or expect_partial() was called and values were left unused, the last copy
// prints a warning to stderr when destroyed (as TF does).
class CheckpointLoadStatus {
 public:
  CheckpointLoadStatus(std::shared_ptr<detail::Restorer> r, std::shared_ptr<Trackable> root);

  // Every value in the checkpoint was restored and every live object holding values was matched.
  const CheckpointLoadStatus& assert_consumed() const;
  // Every live object holding values was matched, and every matched object got all its values.
  const CheckpointLoadStatus& assert_existing_objects_matched() const;
  // Something besides the root (and its save_counter) matched: the checkpoint fits the program at
  // all. TF's assert_nontrivial_match; the error lists the live objects that found no value.
  const CheckpointLoadStatus& assert_nontrivial_match() const;
  // Silences the warning about unused values.
  const CheckpointLoadStatus& expect_partial() const;

  const std::string& path() const;
  std::vector<std::string> unused_checkpoint_keys() const;        // stored values not restored (yet)
  std::vector<std::string> unmatched_checkpoint_objects() const;  // stored objects with values, no live match
  std::vector<std::string> unmatched_live_objects() const;        // live variables/state with no stored match
  size_t restored_count() const;

 private:
  void check_specified() const;
  struct Token;
  std::shared_ptr<detail::Restorer> r_;
  std::shared_ptr<Trackable> root_;  // the live graph the status reports on
  std::shared_ptr<Token> token_;
};

class Checkpoint {
 public:
  // A root entry: a Trackable (any subclass) or a Variable.
  struct Item {
    template <class T, class = std::enable_if_t<std::is_base_of_v<Trackable, T>>>
    Item(std::shared_ptr<T> o) : object(std::move(o)) {}  // NOLINT: implicit by design
    Item(Variable v) : variable(std::move(v)) {}           // NOLINT
    std::shared_ptr<Trackable> object;
    Variable variable;
  };
  Checkpoint(std::initializer_list<std::pair<std::string, Item>> items);
  explicit Checkpoint(const std::vector<std::pair<std::string, Item>>& items);

  // Increments save_counter, writes `<prefix>-<save_counter>` and points `<dir>/checkpoint` at it.
  std::string save(const std::string& prefix);
  // Writes exactly `prefix` (PREFIX.index + PREFIX.data-00000-of-00001); returns it.
  std::string write(const std::string& prefix);
  // Creates save_counter (so that it is restored too), then read(). A SavedModel directory restores
  // its variables/variables bundle, as in TF.
  CheckpointLoadStatus restore(const std::string& prefix);
  // restore(latest_checkpoint(dir)) as in TF, where None restores nothing: with nullopt only
  // save_counter is created, and the status's assert_*() say that nothing was specified.
  CheckpointLoadStatus restore(std::nullopt_t);
  template <class T, class = std::enable_if_t<std::is_same_v<T, std::optional<std::string>>>>
  CheckpointLoadStatus restore(const T& prefix) {
    return prefix ? restore(*prefix) : restore(std::nullopt);
  }
  CheckpointLoadStatus read(const std::string& prefix);

  // The last restore's checkpoint and how many of its objects still wait to be created (a layer not
  // built yet) to receive their values; nullopt when none wait. A save made meanwhile does not hold
  // those values: write() warns, and a CheckpointManager keeps that checkpoint instead of deleting it.
  struct PendingRestore {
    std::string prefix;
    size_t objects = 0;
  };
  std::optional<PendingRestore> pending_restore() const;

  // The int64 counter tracked as "save_counter"; created (0) on first use.
  Variable save_counter();
  bool has_save_counter() const { return counter_.defined(); }
  const std::shared_ptr<Trackable>& root() const { return root_; }

 private:
  std::shared_ptr<Trackable> root_;
  Variable counter_;
  // Weak: the restorer lives while its status or deferred actions do, which is what pending means.
  std::weak_ptr<detail::Restorer> last_restore_;
};

}  // namespace keel
