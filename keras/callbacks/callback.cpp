#include "keel/keras/callbacks/callback.h"

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/history.h"
#include "keel/keras/callbacks/progbar_logger.h"

namespace keel::keras {

// ---- Logs

Logs::Logs(std::initializer_list<std::pair<std::string, double>> items) {
  for (const auto& [k, v] : items) set(k, v);
}

void Logs::set(const std::string& key, double value) {
  for (auto& item : items_)
    if (item.first == key) {
      item.second = value;
      return;
    }
  items_.emplace_back(key, value);
}

bool Logs::contains(const std::string& key) const { return get(key).has_value(); }

std::optional<double> Logs::get(const std::string& key) const {
  for (const auto& item : items_)
    if (item.first == key) return item.second;
  return std::nullopt;
}

double Logs::at(const std::string& key) const {
  if (auto v = get(key)) return *v;
  std::string present;
  for (const auto& item : items_) present += (present.empty() ? "" : ", ") + item.first;
  KEEL_FAIL("logs have no '", key, "' (present: ", present, ")");
}

std::vector<std::string> Logs::keys() const {
  std::vector<std::string> out;
  for (const auto& item : items_) out.push_back(item.first);
  return out;
}

std::string Logs::joined_keys() const {
  std::string out;
  for (const auto& kv : items_) out += (out.empty() ? "" : ",") + kv.first;
  return out;
}

// ---- Callback

Callback::~Callback() = default;

std::string Callback::class_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  const size_t colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

// ---- CallbackList

CallbackList::CallbackList(std::vector<std::shared_ptr<Callback>> callbacks) {
  for (auto& cb : callbacks) append(std::move(cb));
}

void CallbackList::append(std::shared_ptr<Callback> callback) {
  KEEL_CHECK(callback != nullptr, "CallbackList: null callback");
  auto at = callbacks_.end();
  if (!callback->runs_after_others()) {
    while (at != callbacks_.begin() && (*(at - 1))->runs_after_others()) --at;
  }
  callbacks_.insert(at, std::move(callback));
}

void CallbackList::add_default_callbacks(bool add_history, bool add_progbar) {
  bool has_progbar = false, has_history = false;
  for (const auto& cb : callbacks_) {
    if (std::dynamic_pointer_cast<ProgbarLogger>(cb)) has_progbar = true;
    if (std::dynamic_pointer_cast<History>(cb)) has_history = true;
  }
  if (add_progbar && !has_progbar) append(std::make_shared<ProgbarLogger>());
  if (add_history && !has_history) append(std::make_shared<History>());
}

std::shared_ptr<History> CallbackList::history() const {
  for (const auto& cb : callbacks_)
    if (auto h = std::dynamic_pointer_cast<History>(cb)) return h;
  return nullptr;
}

void CallbackList::set_params(const CallbackParams& params) {
  for (auto& cb : callbacks_) cb->set_params(params);
}
void CallbackList::set_model(Model* model) {
  for (auto& cb : callbacks_) cb->set_model(model);
}
void CallbackList::set_control(TrainingControl* control) {
  for (auto& cb : callbacks_) cb->set_control(control);
}

#define KEEL_FORWARD_HOOK(hook)                          \
  void CallbackList::hook(Logs logs) {                   \
    for (auto& cb : callbacks_) cb->hook(logs);          \
  }
#define KEEL_FORWARD_INDEXED_HOOK(hook, IndexT)          \
  void CallbackList::hook(IndexT index, Logs logs) {     \
    for (auto& cb : callbacks_) cb->hook(index, logs);   \
  }

KEEL_FORWARD_HOOK(on_train_begin)
KEEL_FORWARD_HOOK(on_train_end)
KEEL_FORWARD_HOOK(on_test_begin)
KEEL_FORWARD_HOOK(on_test_end)
KEEL_FORWARD_HOOK(on_predict_begin)
KEEL_FORWARD_HOOK(on_predict_end)
KEEL_FORWARD_INDEXED_HOOK(on_epoch_begin, int)
KEEL_FORWARD_INDEXED_HOOK(on_epoch_end, int)
KEEL_FORWARD_INDEXED_HOOK(on_train_batch_begin, int64_t)
KEEL_FORWARD_INDEXED_HOOK(on_train_batch_end, int64_t)
KEEL_FORWARD_INDEXED_HOOK(on_test_batch_begin, int64_t)
KEEL_FORWARD_INDEXED_HOOK(on_test_batch_end, int64_t)
KEEL_FORWARD_INDEXED_HOOK(on_predict_batch_begin, int64_t)
KEEL_FORWARD_INDEXED_HOOK(on_predict_batch_end, int64_t)

#undef KEEL_FORWARD_HOOK
#undef KEEL_FORWARD_INDEXED_HOOK

}  // namespace keel::keras
