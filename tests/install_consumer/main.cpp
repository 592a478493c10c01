// Uses the installed headers and library: a recorded product and its gradient.
#include <keel/autodiff/backward.h>
#include <keel/graph/tensor.h>
#include <keel/ops/elementwise.h>
#include <keel/ops/reduce.h>

#include <iostream>

int main() {
  keel::Tensor x = keel::Tensor::from_vector<float>({1, 2, 3}).set_requires_grad();
  keel::Tensor y = keel::ops::sum(keel::ops::mul(x, x));
  y.backward();
  const auto g = x.grad().to_vector<float>();
  if (y.item<float>() != 14.f || g != std::vector<float>{2, 4, 6}) {
    std::cerr << "consumer: wrong result " << y << " " << x.grad() << "\n";
    return 1;
  }
  std::cout << "consumer: ok " << x.grad() << "\n";
  return 0;
}
