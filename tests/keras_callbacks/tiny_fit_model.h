// The callback tests' model and data: Dense(16, relu) -> Dense(10) logits on 784 pixels, compiled with
// the given optimizer, sparse crossentropy and accuracy, on the first 256/128 Fashion-MNIST images.
//
//   auto m = callback_test::tiny_model(std::make_shared<keras::SGD>());
//   m->fit(callback_test::data().x_train, callback_test::data().y_train, ...);
#pragma once

#include <memory>

#include "fashion_subset.h"
#include "keel/keras/initializers.h"
#include "keel/keras/layers/core.h"
#include "keel/keras/losses.h"
#include "keel/keras/optimizers.h"
#include "keel/keras/sequential.h"

namespace callback_test {

inline std::shared_ptr<keel::keras::Sequential> tiny_model(std::shared_ptr<keel::keras::Optimizer> optimizer) {
  using namespace keel::keras;
  auto m = std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Dense(layers::DenseOptions(16).activation("relu").input_shape({784}).kernel_initializer(
          std::make_shared<initializers::GlorotUniform>(3))),
      layers::Dense(layers::DenseOptions(10).kernel_initializer(std::make_shared<initializers::GlorotUniform>(4)))});
  m->compile(CompileOptions()
                 .optimizer(std::move(optimizer))
                 .loss(std::make_shared<SparseCategoricalCrossentropy>(LossOptions().from_logits(true)))
                 .metrics({"accuracy"}));
  return m;
}

inline const keel::testing::FashionSubset& data() { return keel::testing::fashion_subset(256, 128); }

}  // namespace callback_test
