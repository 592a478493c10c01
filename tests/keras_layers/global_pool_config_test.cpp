// GlobalAveragePooling2D's config as Keras 2.4 (the version keel's files declare) writes it: no
// "keepdims" (that layer rejects unknown arguments); keepdims appears only when true (Keras 2.6+),
// and is read when present.
#include <gtest/gtest.h>

#include "keel/keras/layers/layers.h"
#include "keel/keras/layers/registry.h"

using namespace keel;
using namespace keel::keras;

TEST(GlobalAveragePooling2DConfig, KeepdimsWrittenOnlyWhenTrue) {
  layers::GlobalAveragePooling2D plain;
  const Json c = plain.get_config();
  EXPECT_FALSE(c.contains("keepdims")) << c.dump();
  EXPECT_EQ(c["data_format"], "channels_last");

  layers::GlobalPoolOptions o;
  layers::GlobalAveragePooling2D kept(o.keepdims(true));
  EXPECT_EQ(kept.get_config()["keepdims"], true);
}

TEST(GlobalAveragePooling2DConfig, ConfigsRoundTrip) {
  for (bool keep : {false, true}) {
    layers::GlobalPoolOptions o;
    layers::GlobalAveragePooling2D layer(o.keepdims(keep));
    auto again = layer_from_config(Json{{"class_name", "GlobalAveragePooling2D"}, {"config", layer.get_config()}});
    const Tensor y = (*again)(Tensor::ones({2, 3, 3, 4}));
    EXPECT_EQ(y.shape(), keep ? (Shape{2, 1, 1, 4}) : (Shape{2, 4}));
  }
}
