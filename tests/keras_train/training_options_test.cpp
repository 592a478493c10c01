// CompileOptions / FitOptions: defaults as Keras, names resolved, chainable setters.
#include <gtest/gtest.h>

#include "keel/keras/callbacks/early_stopping.h"
#include "keel/keras/compiled_outputs.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/training_options.h"

using namespace keel;
using namespace keel::keras;

TEST(TrainingOptions, FitDefaultsAreKeras) {
  FitOptions f;
  EXPECT_EQ(f.batch_size(), 32);
  EXPECT_EQ(f.epochs(), 1);
  EXPECT_EQ(f.verbose(), 1);
  EXPECT_TRUE(f.callbacks().empty());
  EXPECT_EQ(f.validation_split(), 0.0);
  EXPECT_EQ(f.validation_freq(), 1);
  EXPECT_EQ(f.validation_batch_size(), 0);  // Keras's None: batch_size
  EXPECT_EQ(f.validation_steps(), 0);       // Keras's None: all of the validation data
  EXPECT_FALSE(f.validation_data());
  EXPECT_TRUE(f.shuffle());
  EXPECT_EQ(f.initial_epoch(), 0);
  EXPECT_EQ(f.steps_per_epoch(), 0);
  EXPECT_FALSE(f.seed());
  auto es = std::make_shared<EarlyStopping>();
  f.batch_size(64).epochs(5).verbose(2).validation_split(0.2).shuffle(false).initial_epoch(1).seed(7).callback(es)
      .validation_data(Tensor::zeros({2, 3}), Tensor::zeros({2}));
  EXPECT_EQ(f.batch_size(), 64);
  EXPECT_EQ(f.epochs(), 5);
  EXPECT_EQ(*f.seed(), 7u);
  ASSERT_EQ(f.callbacks().size(), 1u);
  EXPECT_EQ(f.callbacks()[0], es);
  EXPECT_EQ(f.validation_data()->first.shape(), (Shape{2, 3}));
  EXPECT_EQ(EvaluateOptions().batch_size(), 32);
  // Keras 2.11-2.15's evaluate and predict take verbose="auto", which is 1 (a progress bar) outside
  // ParameterServerStrategy: the classification tutorial's predict prints "313/313 [===...] - 0s 1ms/step".
  EXPECT_EQ(EvaluateOptions().verbose(), 1);
  EXPECT_EQ(PredictOptions().verbose(), 1);
}

TEST(TrainingOptions, CompileResolvesNamesAndMetricsForTheLoss) {
  CompileOptions c;
  c.optimizer("adam").loss("sparse_categorical_crossentropy").metrics({"accuracy"});
  EXPECT_FALSE(c.optimizer());  // by name: each compile gets its own
  EXPECT_EQ(*c.optimizer_name(), "adam");
  EXPECT_EQ(c.build_optimizer()->class_name(), "Adam");
  EXPECT_NE(c.build_optimizer(), c.build_optimizer());
  EXPECT_EQ(c.loss()->class_name(), "SparseCategoricalCrossentropy");
  EXPECT_EQ(*c.loss_name(), "sparse_categorical_crossentropy");
  // compile resolves metric names against the loss (a model with one unnamed output).
  auto metrics = CompiledOutputs(c, {}).outputs().at(0).metrics;
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0]->name(), "accuracy");
  EXPECT_EQ(metrics[0]->fn_name(), "sparse_categorical_accuracy");

  auto sgd = std::make_shared<SGD>(SGDOptions().momentum(0.9));
  auto bce = std::make_shared<BinaryCrossentropy>(LossOptions().from_logits(true));
  auto acc = std::make_shared<BinaryAccuracy>();
  CompileOptions d;
  d.optimizer(sgd).loss(bce).metric("acc").metric(acc);
  EXPECT_EQ(d.optimizer(), sgd);
  EXPECT_EQ(d.build_optimizer(), sgd);  // an object is shared, as given
  EXPECT_FALSE(d.optimizer_name());
  EXPECT_FALSE(d.loss_name());
  auto m = CompiledOutputs(d, {}).outputs().at(0).metrics;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]->fn_name(), "binary_accuracy");
  EXPECT_EQ(m[0]->name(), "acc");
  EXPECT_EQ(m[1], acc);
  EXPECT_THROW(CompileOptions().optimizer("adamax2"), Error);
  EXPECT_THROW(CompileOptions().loss("hinge2"), Error);
  EXPECT_THROW(CompiledOutputs(CompileOptions().loss("mse").metrics({"f1"}), {}), Error);
}
