// keras::Model's training methods: compile/fit/evaluate/predict/train_on_batch/test_on_batch over
// keras::Trainer, with the optimizer and metrics tracked for checkpoints as Keras 2 names them. x and y
// are keras::Arrays (keras/arrays.h); a Tensor converts to one array.
#include <map>
#include <set>

#include "keel/graph/error.h"
#include "keel/keras/model.h"

namespace keel::keras {

namespace {

// A plain checkpoint node ("keras_api", "metrics").
struct TrackableNode : Trackable {};

TrainableModel trainable_of(Model& m) {
  TrainableModel t{[&m](const Tensor& x, bool training) { return m(x, training); },
                   [&m] { return m.trainable_weights(); }, [&m] { return m.weights(); }, &m};
  t.input_names = m.input_names();
  t.output_names = m.output_names();
  t.forward_multi = [&m](const std::vector<Tensor>& xs, bool training) { return m(xs, training); };
  t.output_masks = [&m] { return m.last_output_masks(); };
  return t;
}

}  // namespace

Trainer& Model::bound_trainer(const char* what) {
  KEEL_CHECK(trainer_ != nullptr, what, ": you must compile the model before training/testing (call compile first)");
  trainer_->rebind(trainable_of(*this));
  return *trainer_;
}

void Model::compile(const CompileOptions& options) {
  auto trainer = std::make_shared<Trainer>(trainable_of(*this));
  trainer->compile(options);
  trainer_ = std::move(trainer);
  track("optimizer", trainer_->optimizer());
  auto metrics = std::make_shared<TrackableNode>();
  const auto list = trainer_->metrics();
  for (size_t i = 0; i < list.size(); ++i) metrics->track(std::to_string(i), list[i]);
  auto api = std::make_shared<TrackableNode>();
  api->track("metrics", metrics);
  track("keras_api", api);
}

std::shared_ptr<History> Model::fit(const Arrays& x, const Arrays& y, const FitOptions& options) {
  return bound_trainer("fit").fit(x, y, options);
}

Logs Model::evaluate(const Arrays& x, const Arrays& y, const EvaluateOptions& options) {
  return bound_trainer("evaluate").evaluate(x, y, options);
}

Tensor Model::predict(const Arrays& x, const PredictOptions& options) {
  // Keras predicts without compile: a trainer that has no optimizer only runs the forward pass.
  if (!trainer_) return Trainer(trainable_of(*this)).predict(x, options);
  return bound_trainer("predict").predict(x, options);
}

std::vector<Tensor> Model::predict_multi(const Arrays& x, const PredictOptions& options) {
  if (!trainer_) return Trainer(trainable_of(*this)).predict_multi(x, options);
  return bound_trainer("predict").predict_multi(x, options);
}

Logs Model::train_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight,
                           const ClassWeight& class_weight) {
  return bound_trainer("train_on_batch").train_on_batch(x, y, sample_weight, class_weight);
}

Logs Model::test_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight) {
  return bound_trainer("test_on_batch").test_on_batch(x, y, sample_weight);
}

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> out;
  for (const auto& t : inputs()) out.push_back(t.layer()->name());
  return out;
}

std::vector<std::string> Model::output_names() const {
  // Keras's _set_output_names: a layer that gives several outputs is "<name>", "<name>_1", ...
  std::vector<std::string> out;
  std::set<std::string> taken;
  std::map<std::string, int> next;
  for (const auto& t : outputs()) {
    const std::string& base = t.layer()->name();
    std::string proposal = base;
    while (taken.count(proposal)) {
      int& k = next.emplace(base, 1).first->second;
      proposal = base + "_" + std::to_string(k++);
    }
    taken.insert(proposal);
    out.push_back(proposal);
  }
  return out;
}

std::shared_ptr<Optimizer> Model::optimizer() const { return trainer_ ? trainer_->optimizer() : nullptr; }

std::vector<std::shared_ptr<Metric>> Model::metrics() const {
  return trainer_ ? trainer_->metrics() : std::vector<std::shared_ptr<Metric>>{};
}

std::vector<std::string> Model::metrics_names() const {
  return trainer_ ? trainer_->metrics_names() : std::vector<std::string>{};
}

void Model::set_stop_training(bool stop) {
  KEEL_CHECK(trainer_ != nullptr, "set_stop_training: the model is not compiled");
  trainer_->control().stop_training = stop;
}

}  // namespace keel::keras
