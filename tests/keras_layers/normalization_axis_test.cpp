// BatchNormalization / LayerNormalization normalize over the last axis only: a config whose one-element
// axis list names another axis is rejected when the layer is built, naming the layer and the axis,
// instead of being silently replaced by the last axis.
#include <gtest/gtest.h>

#include <functional>

#include "keel/keras/layers/layers.h"
#include "error_of.h"

using namespace keel;
using namespace keel::keras;

namespace {

using keel::test::error_of;

std::string sequential_json(const std::string& shape, const std::string& layer) {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", )"
         R"("config": {"batch_input_shape": )" + shape + R"(, "dtype": "float32", "name": "in"}}, )" + layer + "]}}";
}

}  // namespace

TEST(NormalizationAxis, NonLastAxisListInConfigIsRejected) {
  EXPECT_EQ(error_of([] {
              model_from_json(sequential_json(
                  "[null, 4, 6]", R"({"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [1]}})"));
            }),
            "LayerNormalization 'ln': only the last axis is supported, got axis 1 for input (None, 4, 6) "
            "(the last axis is 2 or -1)");
  EXPECT_EQ(error_of([] {
              model_from_json(sequential_json(
                  "[null, 3, 5, 5]", R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}})"));
            }),
            "BatchNormalization 'bn': only the last axis is supported, got axis 1 for input (None, 3, 5, 5) "
            "(the last axis is 3 or -1)");
  // A bare integer other than -1 was already rejected when the config is read.
  EXPECT_EQ(error_of([] {
              model_from_json(sequential_json(
                  "[null, 3, 5, 5]", R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 1}})"));
            }),
            "BatchNormalization 'bn': only the last axis is supported, got 1");
}

TEST(NormalizationAxis, LastAxisListInConfigStillWorks) {
  auto m = model_from_json(sequential_json(
      "[null, 4, 6]", R"({"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [2]}})"));
  EXPECT_EQ(m->get_config()["layers"][1]["config"]["axis"], Json::array({2}));
  EXPECT_EQ(m->weights()[0].shape(), (Shape{6}));
  auto b = model_from_json(sequential_json(
      "[null, 3, 5, 5]", R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [-1]}})"));
  EXPECT_EQ(b->get_config()["layers"][1]["config"]["axis"], Json::array({3}));
}

TEST(NormalizationAxis, OptionsAxisIsCheckedWhenBuilt) {
  layers::LayerNormalization ln(layers::LayerNormalizationOptions().axis(1).name("ln_opt"));
  EXPECT_EQ(error_of([&] { ln(Tensor::zeros({2, 4, 6})); }),
            "LayerNormalization 'ln_opt': only the last axis is supported, got axis 1 for input (None, 4, 6) "
            "(the last axis is 2 or -1)");
  layers::BatchNormalization bn(layers::BatchNormalizationOptions().axis(1));
  EXPECT_EQ(bn(Tensor::ones({2, 5})).shape(), (Shape{2, 5}));  // axis 1 is the last axis of a 2-D input
}
