// The small CNN of Keras's image-classification tutorials, on Fashion-MNIST (28x28x1) for one epoch:
//
//   tf.keras.utils.set_random_seed(seed)
//   x_train = x_train.reshape(-1, 28, 28, 1) / 255.0                     (and x_test)
//   model = tf.keras.Sequential([
//       layers.Conv2D(16, 3, activation='relu', input_shape=(28, 28, 1)),
//       layers.MaxPooling2D(4),
//       layers.BatchNormalization(),
//       layers.Flatten(),
//       layers.Dense(32, activation='relu'),
//       layers.Dropout(0.5),
//       layers.Dense(10, activation='softmax')])
//   model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
//   model.summary()
//   model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))
//   test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
//   print('\nTest accuracy:', test_acc)
//
// Usage: keel-example-keras_cnn [EPOCHS [SEED]]   (defaults 1, 0) Exits 1 when the accuracy on the 10,000 test images
// is below 0.85 (the target of issue 4 after one epoch).
#include <cstdio>
#include <cstdlib>

#include "keel/graph/error.h"
#include "keel/keras/datasets/fashion_mnist.h"
#include "keel/keras/layers/layers.h"
#include "keel/ops/elementwise.h"
#include "positional_args.h"

using namespace keel;
namespace layers = keel::keras::layers;

int main(int argc, char** argv) {
  const char* usage = "keel-example-keras_cnn [EPOCHS [SEED]]";
  positional_args_at_most(argc, argv, 2, usage);
  const int epochs = static_cast<int>(positional_arg(argc, argv, 1, 1, usage));
  const uint64_t seed = static_cast<uint64_t>(positional_arg(argc, argv, 2, 0, usage));
  try {
    keras::utils::set_random_seed(seed);
    auto [x_train, y_train, x_test, y_test] = datasets::fashion_mnist::load_data();
    x_train = ops::div(x_train.to(DType::f32).view({x_train.size(0), 28, 28, 1}), 255.0);
    x_test = ops::div(x_test.to(DType::f32).view({x_test.size(0), 28, 28, 1}), 255.0);

    keras::Sequential model({
        layers::Conv2D(layers::Conv2DOptions(16, 3).activation("relu").input_shape({28, 28, 1})),
        layers::MaxPooling2D(4),
        layers::BatchNormalization(),
        layers::Flatten(),
        layers::Dense(32, "relu"),
        layers::Dropout(0.5),
        layers::Dense(10, "softmax"),
    });
    model.compile(keras::CompileOptions().optimizer("adam").loss("sparse_categorical_crossentropy").metrics(
        {"accuracy"}));
    model.summary();
    model.fit(x_train, y_train, keras::FitOptions().epochs(epochs).validation_data(x_test, y_test));
    const keras::Logs scores = model.evaluate(x_test, y_test, keras::EvaluateOptions().verbose(2));
    const double test_acc = scores.at("accuracy");
    std::printf("\nTest accuracy: %.4f\n", test_acc);
    if (epochs >= 1 && test_acc < 0.85) {
      std::printf("FAILED: test accuracy %.4f is below the target 0.85\n", test_acc);
      return 1;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "keras_cnn: %s\n", e.what());
    return 1;
  }
  return 0;
}
