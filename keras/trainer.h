// keras::Trainer: Keras's compile/fit/evaluate/predict/train_on_batch/test_on_batch loop over any
// model given as a forward function and its variables. keras::Model's training methods delegate here.
//
//   keras::Trainer trainer({[&](const Tensor& x, bool training) { return model(x, training); },
//                           [&] { return model.trainable_weights(); },
//                           [&] { return model.weights(); }});
//   trainer.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy")
//                       .metrics({"accuracy"}));
//   auto history = trainer.fit(x, y, keras::FitOptions().epochs(5).validation_split(0.1));
//   keras::Logs scores = trainer.evaluate(x_test, y_test);      // {"loss": ..., "accuracy": ...}
//   Tensor probs = trainer.predict(x_test);
//
// As Keras 2.x: fixed-size batches over the first axis with a partial last batch; shuffle=true
// permutes the training samples every epoch (a Philox Generator: the permutation of epoch e depends
// only on the seed and e, so a resumed fit replays it); validation_split takes the LAST fraction of
// the samples (before shuffling); the loss shown is the batch-size-weighted mean of the batch losses,
// the metrics are running means; metrics are reset at each epoch and before evaluation; callbacks are
// called in Keras's order (train_begin, epoch_begin, train_batch_begin/end, test_* for validation,
// epoch_end with val_* logs, train_end); EarlyStopping & co. stop through TrainingControl.
// fit keeps its position in a TrainingState (keras/training_state.h) shared with the callbacks: a
// callback that restores it in on_train_begin (BackupAndRestore) makes fit start at that epoch and
// step, with the saved shuffle seed, and without resetting the (restored) metrics mid-epoch.
//
// Several inputs or outputs (a functional keras::Model; TrainableModel::forward_multi and the names):
// x and y are keras::Arrays (one array, a list in model order, or by layer name); every batch takes
// the same rows of every array (one shuffle permutation, the same validation_split cut). compile()
// resolves the losses, weights and metrics per output (keras/compiled_outputs.h); the logs are
// Keras 2.4's: "loss" (the weighted sum), "<output>_loss" for each output with a loss, then each
// output's "<output>_<metric>", with "val_" before each for validation. predict_multi() returns one
// array per output. One input and one output run exactly as before (same logs, numbers and messages).
// As in Keras, y may leave out (by name) or give an undefined array for an output that has no loss and no
// metric: nothing reads its targets, and its sample weights are ignored.
//
// Sample weights (Keras 2.4; keras/sample_weights.h): FitOptions::sample_weight, the third array of
// validation_data, EvaluateOptions::sample_weight and train_on_batch/test_on_batch's sample_weight give
// one weight per sample ([N] or [N, 1]) for every output, or one per output (a list, or by name: an
// output left out is unweighted). The weights go with their samples: the same shuffle permutation,
// validation_split cut and batches as x and y. class_weight (fit and train_on_batch, one output only)
// becomes per-sample weights of the training data, multiplied with sample_weight; validation is not
// class-weighted. Each output's loss and its weighted metrics take the weights; the "loss" and
// "<output>_loss" means stay weighted by the batch size and the plain metrics unweighted, as Keras 2.4
// (keras/compiled_outputs.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"
#include "keel/graph/variable.h"
#include "keel/keras/arrays.h"
#include "keel/keras/callbacks/history.h"
#include "keel/keras/compiled_outputs.h"
#include "keel/keras/training_options.h"
#include "keel/keras/training_state.h"

namespace keel::keras {

// What the loop needs from a model.
struct TrainableModel {
  std::function<Tensor(const Tensor& x, bool training)> forward;
  std::function<std::vector<Variable>()> trainable_variables;
  std::function<std::vector<Variable>()> weights;  // all weights (EarlyStopping's restore_best_weights)
  Model* model = nullptr;                          // handed to callbacks' model()
  // Several inputs or outputs: the forward pass over lists, used when either list of names has more
  // than one entry. The names (the input and output layers', as Keras's input_names/output_names) order
  // the arrays, key Arrays::by_name and the *_by_output compile options, and name the per-output logs.
  std::function<std::vector<Tensor>(const std::vector<Tensor>& xs, bool training)> forward_multi = nullptr;
  std::vector<std::string> input_names = {};
  std::vector<std::string> output_names = {};
  // The masks of the outputs of the last forward pass (Keras's _keras_mask; undefined: none), which
  // weight the losses and metrics.
  std::function<std::vector<Tensor>()> output_masks = nullptr;
};

class Trainer {
 public:
  explicit Trainer(TrainableModel model);

  // Points the loop at another model object (a model that moved keeps its compiled state).
  void rebind(TrainableModel model);

  void compile(const CompileOptions& options);
  bool compiled() const { return optimizer_ != nullptr; }

  std::shared_ptr<History> fit(const Arrays& x, const Arrays& y, const FitOptions& options = FitOptions());
  // Returns {"loss": ..., <metric>: ...} (Keras's evaluate(..., return_dict=True)).
  Logs evaluate(const Arrays& x, const Arrays& y, const EvaluateOptions& options = EvaluateOptions());
  // A model with one output; predict_multi: one array per output, in model order.
  Tensor predict(const Arrays& x, const PredictOptions& options = PredictOptions());
  std::vector<Tensor> predict_multi(const Arrays& x, const PredictOptions& options = PredictOptions());
  // One step on one batch; metrics are reset first (Keras's reset_metrics=True). Returns the logs.
  // sample_weight and class_weight as FitOptions takes them (none by default).
  Logs train_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight = Arrays(),
                      const ClassWeight& class_weight = ClassWeight());
  Logs test_on_batch(const Arrays& x, const Arrays& y, const Arrays& sample_weight = Arrays());

  const std::shared_ptr<Optimizer>& optimizer() const { return optimizer_; }
  // The loss compile() applied to every output (null when it was given per output: see outputs()).
  const std::shared_ptr<Loss>& loss() const { return compile_options_.loss(); }
  const CompiledOutputs& outputs() const { return outputs_; }
  const CompileOptions& compile_options() const { return compile_options_; }
  // Keras's model.metrics: the loss tracker ("loss"), the per-output loss means of a model with several
  // outputs, then the compiled metrics (keras/compiled_outputs.h).
  std::vector<std::shared_ptr<Metric>> metrics() const;
  std::vector<std::string> metrics_names() const;
  void reset_metrics();
  // Keras's model.stop_training, shared with the callbacks of the running fit.
  TrainingControl& control() { return control_; }

 private:
  // x and y in model order, checked to share their (non-zero) number of samples, and the sample weights:
  // one per output (undefined: that output is unweighted), or none at all.
  struct Data {
    std::vector<Tensor> x, y, sample_weight;
    int64_t samples() const { return x.at(0).size(0); }
    // Rows [begin, end) of every array, through `index` when it is not empty (detail::rows_of).
    Data rows(const std::vector<int64_t>& index, int64_t begin, int64_t end) const;
  };
  Data resolve(const Arrays& x, const Arrays& y, const std::string& what,
               const Arrays& sample_weight = Arrays()) const;
  // Multiplies class_weight's per-sample weights into d's (one output only; keras/sample_weights.h).
  void apply_class_weight(Data& d, const ClassWeight& class_weight, const std::string& what) const;
  std::vector<Tensor> resolve_x(const Arrays& x, const std::string& what) const;
  bool multi_io() const { return model_.input_names.size() > 1 || model_.output_names.size() > 1; }
  std::vector<Tensor> forward(const std::vector<Tensor>& xs, bool training);
  std::vector<Tensor> output_masks() const;  // the model's, after forward
  void check_compiled(const char* what) const;
  Logs current_logs() const;
  Logs train_step(const Data& batch);
  Logs test_step(const Data& batch);
  Logs run_evaluation(const Data& data, int64_t batch_size, int64_t steps, CallbackList& callbacks);

  TrainableModel model_;
  CompileOptions compile_options_;
  std::shared_ptr<Optimizer> optimizer_;
  CompiledOutputs outputs_;
  std::shared_ptr<Mean> loss_tracker_;
  TrainingControl control_;
  std::shared_ptr<TrainingState> state_ = std::make_shared<TrainingState>();
};

namespace detail {
// Rows [begin, end) of x along the first axis, as a new tensor (a batch).
Tensor take_rows(const Tensor& x, int64_t begin, int64_t end);
// Rows of x picked by `index` (a shuffled batch).
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& index, int64_t begin, int64_t end);
// The permutation of epoch `epoch` for `n` samples: Fisher-Yates on Generator(seed) at counter epoch << 32.
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int epoch);
// The number of batches of `batch_size` in `n` samples (a partial last batch counts), at most `steps`
// when steps > 0.
int64_t batch_count(int64_t n, int64_t batch_size, int64_t steps);
// take_rows / gather_rows of every array (index empty: rows in order). An undefined array (an output
// without sample weights) stays undefined.
std::vector<Tensor> rows_of(const std::vector<Tensor>& xs, const std::vector<int64_t>& index, int64_t begin,
                            int64_t end);
}  // namespace detail

}  // namespace keel::keras
