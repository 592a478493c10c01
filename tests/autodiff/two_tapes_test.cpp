// Two non-persistent GradientTapes recording one shared subgraph (TensorFlow's DCGAN step): each tape's
// gradient must work, in either order, and match central finite differences in double.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "keel/autodiff/backward.h"
#include "keel/autodiff/gradient_tape.h"
#include "keel/graph/generator.h"
#include "keel/graph/variable.h"
#include "keel/ops/activation.h"
#include "keel/ops/elementwise.h"
#include "keel/ops/linalg.h"
#include "keel/ops/reduce.h"

using namespace keel;

namespace {

struct Gan {
  Generator gen{11};
  Variable G{"G", Tensor::uniform({3, 3}, gen, -1, 1, DType::f64)};
  Variable D{"D", Tensor::uniform({3, 1}, gen, -1, 1, DType::f64)};
  Tensor z = Tensor::uniform({4, 3}, gen, -1, 1, DType::f64);
  Tensor real = Tensor::uniform({4, 3}, gen, -1, 1, DType::f64);

  // gen_loss = mean(-log D(fake)); disc_loss = mean(-log D(real) - log(1 - D(fake))).
  std::pair<Tensor, Tensor> losses() const {
    Tensor fake = ops::tanh(ops::matmul(z, G.value()));
    Tensor d_fake = ops::sigmoid(ops::matmul(fake, D.value()));
    Tensor d_real = ops::sigmoid(ops::matmul(real, D.value()));
    Tensor gen_loss = ops::mean(ops::neg(ops::log(d_fake)));
    Tensor disc_loss = ops::mean(ops::sub(ops::neg(ops::log(d_real)), ops::log(ops::add(ops::neg(d_fake), 1.0))));
    return {gen_loss, disc_loss};
  }
};

// Central differences of loss() with respect to every element of v.
std::vector<double> numeric_grad(const Variable& v, const std::function<double()>& loss) {
  NoGradGuard no_grad;
  Tensor t = v.value().detach();
  std::vector<double> out(t.numel());
  const double h = 1e-6;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double* p = t.data<double>() + i;
    const double x0 = *p;
    *p = x0 + h;
    const double up = loss();
    *p = x0 - h;
    const double down = loss();
    *p = x0;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

void expect_matches(const Tensor& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<double>()[i], want[i], 1e-7) << what << " at " << i;
}

void run_gan_step(bool gen_first) {
  Gan gan;
  const auto want_g = numeric_grad(gan.G, [&] { return gan.losses().first.item<double>(); });
  const auto want_d = numeric_grad(gan.D, [&] { return gan.losses().second.item<double>(); });
  Tensor gG, gD;
  {
    GradientTape gen_tape, disc_tape;
    auto [gen_loss, disc_loss] = gan.losses();
    if (gen_first) {
      gG = gen_tape.gradient(gen_loss, std::vector<Variable>{gan.G})[0];
      gD = disc_tape.gradient(disc_loss, std::vector<Variable>{gan.D})[0];
    } else {
      gD = disc_tape.gradient(disc_loss, std::vector<Variable>{gan.D})[0];
      gG = gen_tape.gradient(gen_loss, std::vector<Variable>{gan.G})[0];
    }
    // Both tapes are used up: the shared nodes' saved values are gone now.
    const Tensor& shared = gen_loss;
    bool refused = false;
    try {
      grad(shared, {gan.G.value()});
    } catch (const Error& e) {
      refused = std::string(e.what()).find("saved values were freed") != std::string::npos;
    }
    EXPECT_TRUE(refused);
  }
  expect_matches(gG, want_g, "d gen_loss / d G");
  expect_matches(gD, want_d, "d disc_loss / d D");
}

TEST(TwoTapes, SharedSubgraphGeneratorTapeFirst) { run_gan_step(true); }
TEST(TwoTapes, SharedSubgraphDiscriminatorTapeFirst) { run_gan_step(false); }

TEST(TwoTapes, ATapeCreatedAfterTheGraphDoesNotKeepIt) {
  Variable w("w", Tensor::from_vector<double>({1, 2}));
  GradientTape t1;
  Tensor h = ops::exp(w.value());
  Tensor l1 = ops::sum(h), l2 = ops::sum(ops::square(h));
  GradientTape later;  // recorded nothing of h: t1's gradient frees it
  auto g1 = t1.gradient(l1, std::vector<Variable>{w});
  EXPECT_NEAR(g1[0].data<double>()[1], std::exp(2.0), 1e-12);
  bool refused = false;
  try {
    grad(l2, {w.value()});
  } catch (const Error& e) {
    refused = std::string(e.what()).find("saved values were freed") != std::string::npos;
  }
  EXPECT_TRUE(refused);
}

}  // namespace
