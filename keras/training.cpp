// keras::Model's training methods: compile/fit/evaluate/predict/train_on_batch/test_on_batch over
// keras::Trainer, with the optimizer and metrics tracked for checkpoints as Keras 2 names them.
#include "keel/graph/error.h"
#include "keel/keras/model.h"

namespace keel::keras {

namespace {

// A plain checkpoint node ("keras_api", "metrics").
struct TrackableNode : Trackable {};

TrainableModel trainable_of(Model& m) {
  return {[&m](const Tensor& x, bool training) { return m(x, training); },
          [&m] { return m.trainable_weights(); }, [&m] { return m.weights(); }, &m};
}

// fit/evaluate/predict/train_on_batch/test_on_batch take one x and one y.
void check_one_input_one_output(const Model& m, const char* what) {
  const auto names = [](const std::vector<KerasTensor>& ts) {
    std::string s;
    for (const auto& t : ts) s += (s.empty() ? "'" : ", '") + t.layer()->name() + "'";
    return s;
  };
  KEEL_CHECK(m.outputs().size() <= 1, what, ": ", m.class_name(), " '", m.name(), "' has ", m.outputs().size(),
             " outputs (", names(m.outputs()), "); fit, evaluate, predict, train_on_batch and test_on_batch "
             "support models with one output only (not yet several)");
  KEEL_CHECK(m.inputs().size() <= 1, what, ": ", m.class_name(), " '", m.name(), "' has ", m.inputs().size(),
             " inputs (", names(m.inputs()), "); fit, evaluate, predict, train_on_batch and test_on_batch "
             "support models with one input only (not yet several)");
}

}  // namespace

Trainer& Model::bound_trainer(const char* what) {
  check_one_input_one_output(*this, what);
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

std::shared_ptr<History> Model::fit(const Tensor& x, const Tensor& y, const FitOptions& options) {
  return bound_trainer("fit").fit(x, y, options);
}

Logs Model::evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options) {
  return bound_trainer("evaluate").evaluate(x, y, options);
}

Tensor Model::predict(const Tensor& x, const PredictOptions& options) {
  // Keras predicts without compile: a trainer that has no optimizer only runs the forward pass.
  if (!trainer_) {
    check_one_input_one_output(*this, "predict");
    return Trainer(trainable_of(*this)).predict(x, options);
  }
  return bound_trainer("predict").predict(x, options);
}

Logs Model::train_on_batch(const Tensor& x, const Tensor& y) {
  return bound_trainer("train_on_batch").train_on_batch(x, y);
}

Logs Model::test_on_batch(const Tensor& x, const Tensor& y) {
  return bound_trainer("test_on_batch").test_on_batch(x, y);
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
