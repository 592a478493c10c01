// Keras callbacks: the base class with Keras's hooks, the Logs they receive, and CallbackList.
//
//   struct Printer : keras::Callback {
//     void on_epoch_end(int epoch, keras::Logs& logs) override { std::cout << logs.at("loss"); }
//   };
//   keras::CallbackList list({std::make_shared<Printer>()});
//   list.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/verbose != 0);
//   list.set_params({/*epochs=*/3, /*steps=*/1875, /*verbose=*/1});
//   list.set_control(&control);            // stop_training flag and access to the model's weights
//   list.on_train_begin(); ... list.on_epoch_end(0, logs); ... list.on_train_end();
//
// Hooks run in the list's order (user callbacks, then the ProgbarLogger and History it adds, as
// Keras 2.x), except that callbacks whose runs_after_others() is true (BackupAndRestore) are kept
// at the end of the list: a backup taken in on_epoch_end then holds every other callback's state for
// that epoch (History's new entry included). `model()` is set by the training loop (keras::Model is only forward-declared here);
// callbacks that change training (EarlyStopping; LearningRateScheduler and ReduceLROnPlateau, through
// its optimizer) go through TrainingControl, which the loop owns, so they work and are testable
// without a model. Callbacks are Trackables; those with state
// (History, EarlyStopping) implement has_state/save_state/restore_state, and class_name() names that
// state in a backup ("EarlyStopping", then "EarlyStopping_1" for a second one).
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/checkpoint/trackable.h"
#include "keel/graph/variable.h"

namespace keel::keras {

class Model;
class Optimizer;
class History;
class Callback;
class TrainingState;

// Keras's logs dict: string -> double, in insertion order (loss, accuracy, val_loss, ...).
class Logs {
 public:
  Logs() = default;
  Logs(std::initializer_list<std::pair<std::string, double>> items);
  // Sets `key`, keeping its position when it exists.
  void set(const std::string& key, double value);
  bool contains(const std::string& key) const;
  std::optional<double> get(const std::string& key) const;
  double at(const std::string& key) const;  // throws naming the key and the keys present
  std::vector<std::string> keys() const;
  // The keys joined by commas ("loss,accuracy"), as Keras's missing-monitor warnings list them.
  std::string joined_keys() const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  bool operator==(const Logs& o) const { return items_ == o.items_; }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// Keras's callback params.
struct CallbackParams {
  int epochs = 1;
  int64_t steps = 0;  // steps per epoch (0: unknown)
  int verbose = 1;
  bool validation = false;  // fit validates, on every epoch or on every validation_freq-th
};

// What the training loop shares with callbacks: Keras's model.stop_training, the model's weights
// (for EarlyStopping(restore_best_weights)), the compiled optimizer (Keras's model.optimizer, for the
// learning-rate callbacks) and, during fit, the loop's position and the callback list (for
// BackupAndRestore; null outside fit).
struct TrainingControl {
  bool stop_training = false;
  std::function<std::vector<Variable>()> weights;
  std::shared_ptr<Optimizer> optimizer;
  TrainingState* state = nullptr;
  const std::vector<std::shared_ptr<Callback>>* callbacks = nullptr;
};

class Callback : public Trackable {
 public:
  ~Callback() override;

  virtual void set_params(const CallbackParams& params) { params_ = params; }
  virtual void set_model(Model* model) { model_ = model; }
  void set_control(TrainingControl* control) { control_ = control; }
  const CallbackParams& params() const { return params_; }
  Model* model() const { return model_; }
  TrainingControl* control() const { return control_; }
  // Keras's class name: by default the C++ class name without its namespaces.
  virtual std::string class_name() const;
  // True for callbacks that must see the others' state after each hook (see CallbackList).
  virtual bool runs_after_others() const { return false; }

  virtual void on_train_begin(Logs& /*logs*/) {}
  virtual void on_train_end(Logs& /*logs*/) {}
  virtual void on_epoch_begin(int /*epoch*/, Logs& /*logs*/) {}
  virtual void on_epoch_end(int /*epoch*/, Logs& /*logs*/) {}
  virtual void on_train_batch_begin(int64_t /*batch*/, Logs& /*logs*/) {}
  virtual void on_train_batch_end(int64_t /*batch*/, Logs& /*logs*/) {}
  virtual void on_test_begin(Logs& /*logs*/) {}
  virtual void on_test_end(Logs& /*logs*/) {}
  virtual void on_test_batch_begin(int64_t /*batch*/, Logs& /*logs*/) {}
  virtual void on_test_batch_end(int64_t /*batch*/, Logs& /*logs*/) {}
  virtual void on_predict_begin(Logs& /*logs*/) {}
  virtual void on_predict_end(Logs& /*logs*/) {}
  virtual void on_predict_batch_begin(int64_t /*batch*/, Logs& /*logs*/) {}
  virtual void on_predict_batch_end(int64_t /*batch*/, Logs& /*logs*/) {}

 private:
  CallbackParams params_;
  Model* model_ = nullptr;
  TrainingControl* control_ = nullptr;
};

class CallbackList {
 public:
  explicit CallbackList(std::vector<std::shared_ptr<Callback>> callbacks = {});

  // Appends, but before the callbacks that run_after_others().
  void append(std::shared_ptr<Callback> callback);
  // Keras's defaults: a ProgbarLogger (when add_progbar and none is given), then a History (when
  // add_history and none is given), both after the user's callbacks.
  void add_default_callbacks(bool add_history, bool add_progbar);
  // The History in the list (given or added), or null.
  std::shared_ptr<History> history() const;
  const std::vector<std::shared_ptr<Callback>>& callbacks() const { return callbacks_; }

  void set_params(const CallbackParams& params);
  void set_model(Model* model);
  void set_control(TrainingControl* control);

  // Each takes the logs by value (default empty) and hands every callback the same object.
  void on_train_begin(Logs logs = {});
  void on_train_end(Logs logs = {});
  void on_epoch_begin(int epoch, Logs logs = {});
  void on_epoch_end(int epoch, Logs logs = {});
  void on_train_batch_begin(int64_t batch, Logs logs = {});
  void on_train_batch_end(int64_t batch, Logs logs = {});
  void on_test_begin(Logs logs = {});
  void on_test_end(Logs logs = {});
  void on_test_batch_begin(int64_t batch, Logs logs = {});
  void on_test_batch_end(int64_t batch, Logs logs = {});
  void on_predict_begin(Logs logs = {});
  void on_predict_end(Logs logs = {});
  void on_predict_batch_begin(int64_t batch, Logs logs = {});
  void on_predict_batch_end(int64_t batch, Logs logs = {});

 private:
  std::vector<std::shared_ptr<Callback>> callbacks_;
};

}  // namespace keel::keras
