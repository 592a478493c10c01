// LearningRateScheduler and ReduceLROnPlateau: Keras 2.11's decisions and messages on scripted logs
// (an optimizer and no model, through TrainingControl), their state, their errors, and fit on a small
// Fashion-MNIST subset, where the optimizer's learning rate changes per epoch and History records "lr".
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "error_of.h"
#include "keel/graph/error.h"
#include "keel/keras/callbacks/history.h"
#include "keel/keras/callbacks/lambda_callback.h"
#include "keel/keras/callbacks/learning_rate_scheduler.h"
#include "keel/keras/callbacks/reduce_lr_on_plateau.h"
#include "keel/keras/initializers.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/losses.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/sequential.h"
#include "tiny_fit_model.h"

using namespace keel;
using namespace keel::keras;
using keel::test::error_of;

namespace {

double f32(double v) { return static_cast<double>(static_cast<float>(v)); }

// Drives a list through one epoch per value of `key`, with a History at the end of the list.
std::shared_ptr<History> run_epochs(std::vector<std::shared_ptr<Callback>> callbacks, TrainingControl& control,
                                    const std::string& key, const std::vector<double>& values) {
  CallbackList list(std::move(callbacks));
  list.add_default_callbacks(/*add_history=*/true, /*add_progbar=*/false);
  list.set_control(&control);
  list.set_params({static_cast<int>(values.size()), 1, 0});
  list.on_train_begin();
  for (size_t e = 0; e < values.size(); ++e) {
    list.on_epoch_begin(static_cast<int>(e));
    list.on_epoch_end(static_cast<int>(e), {{key, values[e]}});
  }
  list.on_train_end();
  return list.history();
}

TrainingControl control_with_sgd(double lr) {
  TrainingControl control;
  control.optimizer = std::make_shared<SGD>(SGDOptions().learning_rate(lr));
  return control;
}

using callback_test::data;
using callback_test::tiny_model;

FitOptions fit_options(int epochs, std::vector<std::shared_ptr<Callback>> callbacks) {
  return FitOptions().epochs(epochs).batch_size(64).verbose(0).seed(7).validation_data(data().x_test, data().y_test)
      .callbacks(std::move(callbacks));
}

// The optimizer's learning rate during each epoch's training batches (read at every batch).
std::shared_ptr<LambdaCallback> lr_probe(const Optimizer& opt, std::vector<std::vector<double>>& seen) {
  return std::make_shared<LambdaCallback>(
      LambdaCallbackOptions()
          .on_epoch_begin([&seen](int, Logs&) { seen.emplace_back(); })
          .on_train_batch_begin([&seen, &opt](int64_t, Logs&) { seen.back().push_back(opt.learning_rate()); }));
}

}  // namespace

// ---- LearningRateScheduler

TEST(LearningRateScheduler, SetsTheRateAtEachEpochBeginAndLogsIt) {
  TrainingControl control = control_with_sgd(0.1);
  std::ostringstream out;
  std::vector<std::pair<int, double>> calls;
  auto lrs = std::make_shared<LearningRateScheduler>(
      [&](int epoch, double lr) {
        calls.emplace_back(epoch, lr);
        return 0.1 / (epoch + 1);
      },
      /*verbose=*/1, &out);
  const auto history = run_epochs({lrs}, control, "loss", {1.0, 0.9, 0.8});
  // The schedule sees the epoch and the optimizer's (f32) learning rate.
  EXPECT_EQ(calls, (std::vector<std::pair<int, double>>{{0, f32(0.1)}, {1, f32(0.1)}, {2, f32(0.05)}}));
  EXPECT_EQ(control.optimizer->learning_rate(), f32(0.1 / 3));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "lr"}));
  EXPECT_EQ(history->at("lr"), (std::vector<double>{f32(0.1), f32(0.05), f32(0.1 / 3)}));
  EXPECT_EQ(out.str(),
            "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
            "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n"
            "\nEpoch 3: LearningRateScheduler setting learning rate to 0.03333333333333333.\n");

  // verbose 0 prints nothing.
  std::ostringstream quiet;
  TrainingControl c2 = control_with_sgd(0.1);
  run_epochs({std::make_shared<LearningRateScheduler>([](int, double lr) { return lr * 0.5; }, 0, &quiet)}, c2, "loss",
             {1.0, 1.0});
  EXPECT_EQ(c2.optimizer->learning_rate(), f32(f32(0.05) * 0.5));
  EXPECT_EQ(quiet.str(), "");
}

TEST(LearningRateScheduler, Errors) {
  EXPECT_EQ(error_of([] { LearningRateScheduler(nullptr); }), "LearningRateScheduler: the schedule is null");
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    TrainingControl control = control_with_sgd(0.1);
    auto lrs = std::make_shared<LearningRateScheduler>([bad](int epoch, double lr) { return epoch < 2 ? lr : bad; });
    const std::string expected = std::string("LearningRateScheduler: the output of the \"schedule\" function should be "
                                             "a finite float; at epoch 2 it returned ") +
                                 (std::isnan(bad) ? "nan" : "inf");
    EXPECT_EQ(error_of([&] { run_epochs({lrs}, control, "loss", {1, 1, 1}); }), expected);
    EXPECT_EQ(control.optimizer->learning_rate(), f32(0.1));  // left as it was
  }
  TrainingControl no_optimizer;
  EXPECT_EQ(error_of([&] {
              run_epochs({std::make_shared<LearningRateScheduler>([](int, double lr) { return lr; })}, no_optimizer,
                         "loss", {1});
            }),
            "LearningRateScheduler: there is no optimizer to set the learning rate of (the model is not compiled, "
            "or the callback runs outside fit)");
}

TEST(LearningRateScheduler, FitTrainsEachEpochAtTheScheduledRate) {
  auto opt = std::make_shared<Adam>(AdamOptions().learning_rate(1e-3));
  auto model = tiny_model(opt);
  std::vector<std::vector<double>> seen;
  auto lrs = std::make_shared<LearningRateScheduler>([](int epoch, double) { return 1e-3 * std::pow(0.5, epoch); });
  const auto history = model->fit(data().x_train, data().y_train, fit_options(3, {lrs, lr_probe(*opt, seen)}));
  EXPECT_EQ(model->optimizer()->learning_rate(), f32(2.5e-4));
  const std::vector<double> expected{f32(1e-3), f32(5e-4), f32(2.5e-4)};
  ASSERT_EQ(seen.size(), 3u);
  for (size_t e = 0; e < 3; ++e) EXPECT_EQ(seen[e], std::vector<double>(4, expected[e])) << "epoch " << e;
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy", "lr"}));
  EXPECT_EQ(history->at("lr"), expected);

  // Without the callback, History has no "lr" (as Keras: only these callbacks add it).
  EXPECT_FALSE(tiny_model(std::make_shared<Adam>())->fit(data().x_train, data().y_train, fit_options(1, {}))->contains(
      "lr"));
  // A non-finite rate stops fit with the error, before epoch 1 trains.
  auto bad = std::make_shared<LearningRateScheduler>(
      [](int epoch, double lr) { return epoch == 1 ? std::numeric_limits<double>::infinity() : lr; });
  auto m2 = tiny_model(std::make_shared<Adam>());
  EXPECT_THROW(m2->fit(data().x_train, data().y_train, fit_options(3, {bad})), Error);
  EXPECT_EQ(m2->optimizer()->iterations_value(), 4);
}

// ---- ReduceLROnPlateau

TEST(ReduceLROnPlateau, KerasAlgorithmOnAScriptedPlateau) {
  // Python's Keras 2.11 ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.01) on these
  // values: reductions at epochs 3, 5, 7 and 9 (to min_lr), none at 11 (lr is no longer above min_lr).
  TrainingControl control = control_with_sgd(0.1);
  std::ostringstream out;
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions().factor(0.5).patience(2).cooldown(1).min_lr(0.01).verbose(1).out(&out));
  EXPECT_FALSE(plateau->maximizing());
  std::vector<std::pair<int, int>> state;  // (wait, cooldown_counter) after each epoch
  auto probe = std::make_shared<LambdaCallback>(LambdaCallbackOptions().on_epoch_end(
      [&](int, Logs&) { state.emplace_back(plateau->wait(), plateau->cooldown_counter()); }));
  std::vector<double> values{1.0, 0.9};
  values.resize(12, 0.9);
  const auto history = run_epochs({plateau, probe}, control, "val_loss", values);
  EXPECT_EQ(state, (std::vector<std::pair<int, int>>{{0, 0}, {0, 0}, {1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}, {0, 1},
                                                     {1, 0}, {0, 1}, {1, 0}, {2, 0}}));
  EXPECT_EQ(plateau->best(), 0.9);
  // "lr" is logged before the reduction of that epoch.
  const double r1 = f32(f32(0.1) * 0.5), r2 = f32(r1 * 0.5), r3 = f32(r2 * 0.5), r4 = f32(0.01);
  EXPECT_EQ(history->at("lr"), (std::vector<double>{f32(0.1), f32(0.1), f32(0.1), f32(0.1), r1, r1, r2, r2, r3, r3,
                                                    r4, r4}));
  EXPECT_EQ(history->keys(), (std::vector<std::string>{"val_loss", "lr"}));
  EXPECT_EQ(control.optimizer->learning_rate(), r4);
  EXPECT_EQ(out.str(),
            "\nEpoch 4: ReduceLROnPlateau reducing learning rate to 0.05000000074505806.\n"
            "\nEpoch 6: ReduceLROnPlateau reducing learning rate to 0.02500000037252903.\n"
            "\nEpoch 8: ReduceLROnPlateau reducing learning rate to 0.012500000186264515.\n"
            "\nEpoch 10: ReduceLROnPlateau reducing learning rate to 0.01.\n");
}

TEST(ReduceLROnPlateau, CooldownModesAndMinDelta) {
  {  // cooldown 2: two epochs without counting after a reduction; an improvement resets wait
    TrainingControl control = control_with_sgd(1.0);
    auto p = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions().monitor("loss").patience(1).cooldown(2));
    run_epochs({p}, control, "loss", {1.0, 1.0, 1.0, 1.0, 1.0});
    // e1 reduces (cooldown 2); e2 counts the cooldown down; e3 ends it, counts wait 1 and reduces again
    // (Keras counts in the epoch the cooldown reaches 0); e4 counts down.
    EXPECT_EQ(control.optimizer->learning_rate(), f32(f32(0.1) * 0.1));
    EXPECT_EQ(p->cooldown_counter(), 1);
    TrainingControl c2 = control_with_sgd(1.0);
    run_epochs({p}, c2, "loss", {1.0, 1.0, 0.5});  // on_train_begin reset the state: e1 reduces, e2 improves
    EXPECT_EQ(c2.optimizer->learning_rate(), f32(0.1));
    EXPECT_EQ(p->best(), 0.5);
    EXPECT_EQ(p->wait(), 0);
    EXPECT_EQ(p->cooldown_counter(), 1);
  }
  // "auto" maximizes any monitor containing "acc" (Keras 2.11's test here), minimizes the rest.
  EXPECT_TRUE(ReduceLROnPlateau(ReduceLROnPlateauOptions().monitor("val_accuracy")).maximizing());
  EXPECT_TRUE(ReduceLROnPlateau(ReduceLROnPlateauOptions().monitor("acc_top5")).maximizing());
  EXPECT_FALSE(ReduceLROnPlateau(ReduceLROnPlateauOptions().monitor("val_auc")).maximizing());
  EXPECT_FALSE(ReduceLROnPlateau(ReduceLROnPlateauOptions().monitor("val_accuracy").mode("min")).maximizing());
  EXPECT_TRUE(ReduceLROnPlateau(ReduceLROnPlateauOptions().monitor("loss").mode("max")).maximizing());
  {  // max: 0.5 -> 0.55 is not above best + min_delta 0.1, so it is a plateau
    TrainingControl control = control_with_sgd(1.0);
    auto p = std::make_shared<ReduceLROnPlateau>(
        ReduceLROnPlateauOptions().monitor("val_accuracy").min_delta(0.1).patience(1).factor(0.5));
    run_epochs({p}, control, "val_accuracy", {0.5, 0.55});
    EXPECT_EQ(p->best(), 0.5);
    EXPECT_EQ(control.optimizer->learning_rate(), 0.5);
    run_epochs({p}, control, "val_accuracy", {0.5, 0.65});
    EXPECT_EQ(p->best(), 0.65);
    EXPECT_EQ(control.optimizer->learning_rate(), 0.5);
  }
  {  // a missing monitor: Keras's warning, naming the keys present ("lr" included), and no change
    TrainingControl control = control_with_sgd(1.0);
    std::ostringstream out;
    auto p = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions().patience(0).out(&out));
    const auto h = run_epochs({p}, control, "loss", {1.0, 2.0});
    EXPECT_EQ(control.optimizer->learning_rate(), 1.0);
    EXPECT_EQ(h->at("lr"), (std::vector<double>{1.0, 1.0}));
    const std::string warning =
        "WARNING: Learning rate reduction is conditioned on metric `val_loss` which is not available. Available "
        "metrics are: loss,lr\n";
    EXPECT_EQ(out.str(), warning + warning);
  }
}

TEST(ReduceLROnPlateau, StateRoundTripsAndResumesWithoutAReset) {
  TrainingControl control = control_with_sgd(1.0);
  auto p = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions().monitor("loss").patience(3).cooldown(4));
  run_epochs({p}, control, "loss", {1.0, 2.0, 2.0, 2.0, 2.0});  // e3 reduces: cooldown 4, then e4 counts it down
  ASSERT_EQ(p->cooldown_counter(), 3);
  auto back = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions().monitor("loss").patience(3).cooldown(4));
  back->restore_state(p->save_state());
  EXPECT_EQ(back->wait(), 0);
  EXPECT_EQ(back->cooldown_counter(), 3);
  EXPECT_EQ(back->best(), 1.0);
  // The next fit (a resumed one) keeps the restored state through on_train_begin; the one after resets.
  run_epochs({back}, control, "loss", {2.0});
  EXPECT_EQ(back->cooldown_counter(), 2);
  EXPECT_EQ(back->best(), 1.0);
  run_epochs({back}, control, "loss", {2.0});
  EXPECT_EQ(back->cooldown_counter(), 0);
  EXPECT_EQ(back->best(), 2.0);
  // Infinity (the best before any epoch) survives; garbage is an error, not a crash.
  ReduceLROnPlateau fresh, fresh_back;
  fresh_back.restore_state(fresh.save_state());
  EXPECT_TRUE(std::isinf(fresh_back.best()));
  EXPECT_EQ(error_of([&] { fresh_back.restore_state(History().save_state()); }),
            "ReduceLROnPlateau state: expected a 'ReduceLROnPlateau' record, found 'keel:History'");
  const std::string good = p->save_state();
  for (size_t n = 0; n < good.size(); ++n) {
    if (good.find_first_not_of(" \n", n) == std::string::npos) continue;
    EXPECT_THROW(ReduceLROnPlateau().restore_state(good.substr(0, n)), Error) << n;
  }
}

TEST(ReduceLROnPlateau, Errors) {
  EXPECT_EQ(error_of([] { ReduceLROnPlateau(ReduceLROnPlateauOptions().factor(1.0)); }),
            "ReduceLROnPlateau does not support a factor >= 1.0. Got 1.0");
  EXPECT_EQ(error_of([] { ReduceLROnPlateau(ReduceLROnPlateauOptions().factor(1.5)); }),
            "ReduceLROnPlateau does not support a factor >= 1.0. Got 1.5");
  EXPECT_EQ(error_of([] { ReduceLROnPlateau(ReduceLROnPlateauOptions().mode("best")); }),
            "ReduceLROnPlateau: mode 'best' is not one of auto, min, max");
  TrainingControl no_optimizer;
  EXPECT_EQ(error_of([&] { run_epochs({std::make_shared<ReduceLROnPlateau>()}, no_optimizer, "val_loss", {1}); }),
            "ReduceLROnPlateau: there is no optimizer to set the learning rate of (the model is not compiled, or the "
            "callback runs outside fit)");
}

TEST(ReduceLROnPlateau, FitReducesTheRateAfterPatienceEpochsOnAPlateau) {
  // SGD at 1e-5 barely moves val_loss (far less than min_delta 1e-3 per epoch): a real plateau. Epoch 0
  // improves on infinity; epochs 1-2 wait, 2 reduces; 3-4 wait, 4 reduces.
  auto opt = std::make_shared<SGD>(SGDOptions().learning_rate(1e-5));
  auto model = tiny_model(opt);
  std::ostringstream out;
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      ReduceLROnPlateauOptions().monitor("val_loss").factor(0.1).patience(2).min_delta(1e-3).verbose(1).out(&out));
  std::vector<std::vector<double>> seen;
  const auto history = model->fit(data().x_train, data().y_train, fit_options(6, {plateau, lr_probe(*opt, seen)}));
  const double r1 = f32(f32(1e-5) * 0.1), r2 = f32(r1 * 0.1);
  EXPECT_EQ(history->at("lr"), (std::vector<double>{f32(1e-5), f32(1e-5), f32(1e-5), r1, r1, r2}));
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[2], std::vector<double>(4, f32(1e-5)));
  EXPECT_EQ(seen[3], std::vector<double>(4, r1));  // the epoch after the reduction trains at the new rate
  EXPECT_EQ(seen[5], std::vector<double>(4, r2));
  EXPECT_EQ(opt->learning_rate(), r2);
  EXPECT_EQ(plateau->best(), history->at("val_loss").front());
  EXPECT_EQ(plateau->wait(), 1);
  EXPECT_NE(out.str().find("\nEpoch 3: ReduceLROnPlateau reducing learning rate to 9.999999747378752e-07.\n"),
            std::string::npos)
      << out.str();

  // Adam at 1e-3 improves val_loss every epoch here: no reduction.
  auto improving = tiny_model(std::make_shared<Adam>(AdamOptions().learning_rate(1e-3)));
  auto p2 = std::make_shared<ReduceLROnPlateau>(ReduceLROnPlateauOptions().patience(1));
  const auto h2 = improving->fit(data().x_train, data().y_train, fit_options(3, {p2}));
  EXPECT_EQ(h2->at("lr"), std::vector<double>(3, f32(1e-3)));
  EXPECT_EQ(p2->wait(), 0);
}
