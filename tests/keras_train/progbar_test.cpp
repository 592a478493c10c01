// Keras's progress bar, with a fake clock and a fake terminal test, against exact strings.
#include <gtest/gtest.h>

#include <sstream>

#include "keel/keras/callbacks/progbar_logger.h"
#include "keel/keras/progbar.h"

using namespace keel;
using namespace keel::keras;

namespace {

struct FakeClock {
  double t = 0;
  std::function<double()> fn() {
    return [this] { return t; };
  }
};

ProgbarOptions opts(std::ostringstream& os, FakeClock& clock, bool terminal, int verbose) {
  return ProgbarOptions().out(&os).clock(clock.fn()).is_terminal([terminal] { return terminal; }).verbose(verbose);
}

}  // namespace

TEST(Progbar, TerminalRedrawsWithEtaThenFinalLine) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(3, opts(os, clock, /*terminal=*/true, 1));
  EXPECT_TRUE(bar.dynamic_display());
  clock.t = 0.5;
  bar.update(1, {{"loss", 0.5}, {"accuracy", 0.25}});
  const std::string first = "\r1/3 [=========>....................] - ETA: 1s - loss: 0.5000 - accuracy: 0.2500";
  EXPECT_EQ(os.str(), first);
  clock.t = 0.52;  // within the 0.05 s interval: not redrawn
  bar.update(2, {{"loss", 0.45}, {"accuracy", 0.5}});
  EXPECT_EQ(os.str(), first);
  clock.t = 2.0;
  bar.update(3, {{"loss", 0.4952}, {"accuracy", 0.85}}, /*finalize=*/true);
  EXPECT_EQ(os.str(), first + std::string(80, '\b') +
                          "\r3/3 [==============================] - 2s 750ms/step - loss: 0.4952 - accuracy: 0.8500\n");
}

TEST(Progbar, ShorterRedrawIsPaddedWithSpaces) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(20, opts(os, clock, true, 1));
  clock.t = 1;
  bar.update(1, {{"loss", 12.5}});  // ETA 19s: 65 columns
  os.str("");
  clock.t = 1.5;
  bar.update(2, {});  // values are kept: loss still shown; ETA 9s is one column shorter
  EXPECT_EQ(os.str(), std::string(65, '\b') + "\r 2/20 [==>" + std::string(27, '.') + "] - ETA: 9s - loss: 12.5000 ");
}

TEST(Progbar, NotATerminalPrintsOneLinePerEpoch) {
  // The example of the brief: 1875 steps of 1 ms.
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(1875, opts(os, clock, /*terminal=*/false, 1));
  EXPECT_FALSE(bar.dynamic_display());
  for (int k = 1; k <= 1875; ++k) {
    clock.t = k * 0.001;
    bar.update(k, {{"loss", 0.4952}, {"accuracy", 0.85}}, k == 1875);
  }
  EXPECT_EQ(os.str(), "1875/1875 [==============================] - 2s 1ms/step - loss: 0.4952 - accuracy: 0.8500\n");
}

TEST(Progbar, TerminalRedrawsAreThrottled) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(1875, opts(os, clock, true, 1));
  for (int k = 1; k <= 1875; ++k) {
    clock.t = k * 0.001;
    bar.update(k, {{"loss", 0.4952}}, k == 1875);
  }
  const std::string s = os.str();
  const auto redraws = std::count(s.begin(), s.end(), '\r');
  EXPECT_GE(redraws, 36);  // about one per 50 ms over 1.875 s, plus the first and the last
  EXPECT_LE(redraws, 40);
  EXPECT_NE(s.find("\r   1/1875 [..............................] - ETA: "), std::string::npos);
  const std::string last = "\r1875/1875 [==============================] - 2s 1ms/step - loss: 0.4952\n";
  EXPECT_EQ(s.substr(s.size() - last.size()), last);
}

TEST(Progbar, EtaFormats) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(10000, opts(os, clock, true, 1));
  clock.t = 1.0;
  bar.update(1, {{"loss", 0.0001234}});
  EXPECT_EQ(os.str(), "\r    1/10000 [..............................] - ETA: 2:46:39 - loss: 1.2340e-04");
  std::ostringstream os2;
  FakeClock clock2;
  Progbar bar2(100, opts(os2, clock2, true, 1));
  clock2.t = 1.0;
  bar2.update(1, {});
  EXPECT_EQ(os2.str(), "\r  1/100 [..............................] - ETA: 1:39");
  EXPECT_EQ(Progbar::format_time(2.4, "step"), " 2s/step");
  EXPECT_EQ(Progbar::format_time(0.0125, "step"), " 12ms/step");
  EXPECT_EQ(Progbar::format_time(0.0000456, "sample"), " 46us/sample");
  EXPECT_EQ(Progbar::format_value(-0.5), "-0.5000");
  EXPECT_EQ(Progbar::format_value(0.0), "0.0000e+00");
}

TEST(Progbar, VerboseTwoOneLinePerEpoch) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(3, opts(os, clock, true, 2));
  for (int k = 1; k <= 3; ++k) {
    clock.t = k * 2.0 / 3;
    bar.update(k, {{"loss", 0.4952}, {"accuracy", 0.85}}, k == 3);
  }
  EXPECT_EQ(os.str(), "3/3 - 2s - loss: 0.4952 - accuracy: 0.8500 - 2s/epoch - 667ms/step\n");
}

TEST(Progbar, UnknownTarget) {
  std::ostringstream os;
  FakeClock clock;
  Progbar bar(std::nullopt, opts(os, clock, true, 1));
  clock.t = 0.25;
  bar.update(12, {});
  EXPECT_EQ(os.str(), "\r     12/Unknown - 0s 21ms/step");
}

TEST(Progbar, LoggerDrivesTheBarFromCallbacks) {
  std::ostringstream os;
  FakeClock clock;
  auto logger = std::make_shared<ProgbarLogger>(ProgbarOptions().out(&os).clock(clock.fn()).is_terminal([] { return false; }));
  CallbackList list({logger});
  list.set_params({/*epochs=*/2, /*steps=*/2, /*verbose=*/1});
  list.on_train_begin();
  for (int e = 0; e < 2; ++e) {
    list.on_epoch_begin(e);
    for (int b = 0; b < 2; ++b) {
      clock.t += 0.5;
      list.on_train_batch_end(b, {{"loss", 1.0 / (e + 1)}});
    }
    // Validation through on_test_* inside fit draws nothing.
    list.on_test_begin();
    list.on_test_batch_end(0, {{"loss", 9.0}});
    list.on_test_end({{"loss", 9.0}});
    list.on_epoch_end(e, {{"loss", 1.0 / (e + 1)}, {"val_loss", 0.75}});
  }
  list.on_train_end();
  EXPECT_EQ(os.str(),
            "Epoch 1/2\n2/2 [==============================] - 1s 500ms/step - loss: 1.0000 - val_loss: 0.7500\n"
            "Epoch 2/2\n2/2 [==============================] - 1s 500ms/step - loss: 0.5000 - val_loss: 0.7500\n");
}

TEST(Progbar, LoggerSilentAtVerboseZero) {
  std::ostringstream os;
  auto logger = std::make_shared<ProgbarLogger>(ProgbarOptions().out(&os).is_terminal([] { return true; }));
  CallbackList list({logger});
  list.set_params({3, 2, 0});
  list.on_train_begin();
  list.on_epoch_begin(0);
  list.on_train_batch_end(0, {{"loss", 1.0}});
  list.on_epoch_end(0, {{"loss", 1.0}});
  list.on_train_end();
  EXPECT_EQ(os.str(), "");
}
