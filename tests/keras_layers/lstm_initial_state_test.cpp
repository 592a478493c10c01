// LSTM called with initial states {x, h0, c0}, eagerly and symbolically, against a double-precision
// reference of Keras's LSTM (gates i, f, c, o); the rank-3 input spec applies to x only.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/keras/layers/layers.h"
#include "error_of.h"
#include "lstm_reference.h"

using namespace keel;
using namespace keel::keras;

namespace {

constexpr int64_t B = 2, T = 3, F = 2, U = 3;

using lstm_test::randn;

// Final h of Keras's LSTM from h0, c0 with kernel [F,4U], recurrent [U,4U], bias [4U].
std::vector<double> reference_h(const Tensor& x, const Tensor& h0, const Tensor& c0, const std::vector<Tensor>& w) {
  std::vector<double> out;
  for (const auto& steps : lstm_test::reference_steps(x, w, false, h0, c0))
    out.insert(out.end(), steps.back().begin(), steps.back().end());
  return out;
}

void expect_near(const Tensor& got, const std::vector<double>& want) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want[i], 1e-5) << i;
}

using keel::test::error_of;

}  // namespace

TEST(LSTMInitialState, EagerCallWithStatesMatchesReference) {
  const Tensor x = randn({B, T, F}, 1), h0 = randn({B, U}, 2), c0 = randn({B, U}, 3);
  auto lstm = std::make_shared<layers::LSTM>(layers::LSTMOptions(U).name("lstm_states"));
  const std::vector<Tensor> out = (*lstm)(std::vector<Tensor>{x, h0, c0});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{B, U}));
  const auto w = lstm->get_weights();
  expect_near(out[0], reference_h(x, h0, c0, w));
  // The states matter: zero states give the plain call's result, not this one.
  const Tensor plain = (*lstm)(x);
  expect_near(plain, reference_h(x, Tensor::zeros({B, U}), Tensor::zeros({B, U}), w));
  EXPECT_NE(plain.data<float>()[0], out[0].data<float>()[0]);
}

TEST(LSTMInitialState, SymbolicCallWithStatesBuildsAModelThatMatchesReference) {
  auto xin = Input({T, F});
  auto h_in = Input({U});
  auto c_in = Input({U});
  auto lstm = std::make_shared<layers::LSTM>(layers::LSTMOptions(U).return_state(true).name("lstm_sym"));
  const auto outs = (*lstm)(std::vector<KerasTensor>{xin, h_in, c_in});
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].shape(), (Shape{-1, U}));
  Model model({xin, h_in, c_in}, {outs[0]});
  const Tensor x = randn({B, T, F}, 4), h0 = randn({B, U}, 5), c0 = randn({B, U}, 6);
  const auto y = model(std::vector<Tensor>{x, h0, c0});
  ASSERT_EQ(y.size(), 1u);
  expect_near(y[0], reference_h(x, h0, c0, lstm->get_weights()));
}

TEST(LSTMInitialState, BadStateShapesNameTheLayer) {
  auto lstm = std::make_shared<layers::LSTM>(layers::LSTMOptions(U).name("lstm_bad"));
  const Tensor x = randn({B, T, F}, 1);
  EXPECT_EQ(error_of([&] { (*lstm)(std::vector<Tensor>{x, Tensor::zeros({B, U + 1}), Tensor::zeros({B, U})}); }),
            "LSTM 'lstm_bad': initial state h0 must be [batch, units] = [2,3] for input [2,3,2], got [2,4]");
  EXPECT_EQ(error_of([&] { (*lstm)(std::vector<Tensor>{x, Tensor::zeros({B, U}), Tensor::zeros({B, T, U})}); }),
            "LSTM 'lstm_bad': initial state c0 must be [batch, units] = [2,3] for input [2,3,2], got [2,3,3]");
  EXPECT_EQ(error_of([&] { (*lstm)(std::vector<Tensor>{randn({B, F}, 2)}); }),
            "LSTM 'lstm_bad': expected input of rank 3, got [2,2]");
}
