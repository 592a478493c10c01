// The "Save the entire model" flows of Keras's "Save and load models" tutorial (SavedModel directory and
// HDF5 file), then training continued from each reloaded model:
//
//   model = create_model()
//   model.fit(train_images, train_labels, epochs=5)
//   model.save('saved_model/my_model')
//   new_model = tf.keras.models.load_model('saved_model/my_model')
//   new_model.summary()
//   loss, acc = new_model.evaluate(test_images, test_labels, verbose=2)
//   print('Restored model, accuracy: {:5.2f}%'.format(100 * acc))
//   print(new_model.predict(test_images).shape)
//   model.save('my_model.h5')  ... the same with tf.keras.models.load_model('my_model.h5')
//
// The tutorial says the saved model "can be resumed exactly where it left off" because the optimizer
// state goes with it. Here that is shown: each reloaded model has the optimizer's iterations (5 epochs x
// 32 batches = 160), and 2 more epochs on it give bit for bit the weights of 2 more epochs on the
// original model (same shuffling seed), with the loss continuing to decrease from where it was. For
// contrast, a fresh model given only the weights (load_weights of an .h5 weights file) starts its Adam
// at iteration 0.
//
// Usage: keel-example-tutorial_save_model [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_tutorial_save_model, 5 epochs then 2 more, 1,000 images). Exits 1 unless each reloaded
// model evaluates exactly as the saved one, has its iterations, and continues bit for bit as the original.
#include <cinttypes>
#include <cstring>

#include "tutorial_common.h"

#include "keel/keras/saving/save_model.h"

using namespace tutorial;

namespace {

constexpr int kMoreEpochs = 2;
constexpr uint64_t kContinueShuffleSeed = 7;

bool same_weights(const keras::Model& a, const keras::Model& b) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  if (wa.size() != wb.size()) return false;
  for (size_t i = 0; i < wa.size(); ++i) {
    if (wa[i].shape() != wb[i].shape() || wa[i].dtype() != wb[i].dtype()) return false;
    if (std::memcmp(wa[i].data<float>(), wb[i].data<float>(), wa[i].numel() * sizeof(float)) != 0) return false;
  }
  return true;
}

std::shared_ptr<keras::History> fit_more(keras::Model& model, const TutorialData& d, int initial_epoch) {
  return model.fit(d.train_images, d.train_labels,
                   keras::FitOptions()
                       .initial_epoch(initial_epoch)
                       .epochs(initial_epoch + kMoreEpochs)
                       .seed(kContinueShuffleSeed));
}

std::string losses(const keras::History& h) {
  std::string s;
  for (double v : h.at("loss")) s += (s.empty() ? "" : ", ") + keras::Progbar::format_value(v);
  return "[" + s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  const TutorialArgs args = parse_tutorial_args(argc, argv, "keel_tutorial_save_model", 5);
  try {
    enter_work_dir(args, {"saved_model", "my_model.h5", "my_weights.h5"});
    keras::utils::set_random_seed(args.seed);
    const TutorialData d = load_tutorial_data(args.samples);

    // Create and train a new model instance.
    auto model = create_model();
    const auto history = model->fit(d.train_images, d.train_labels, keras::FitOptions().epochs(args.epochs));
    const keras::Logs trained = evaluate_test(*model, d, 0);
    const int64_t iterations = model->optimizer()->iterations_value();
    std::printf("model.optimizer.iterations = %" PRId64 "\n", iterations);

    // Save the entire model: as a SavedModel directory, and to an HDF5 file.
    model->save("saved_model/my_model");
    model->save("my_model.h5");
    model->save_weights("my_weights.h5");  // weights only, for the contrast at the end
    std::printf("$ ls saved_model\n");
    list_dir("saved_model");
    std::printf("$ ls saved_model/my_model\n");
    check(list_dir("saved_model/my_model") ==
              std::vector<std::string>({"assets", "saved_model.pb", "variables"}),
          "saved_model/my_model should hold assets, saved_model.pb and variables");

    // The original model continues: the reference for the reloaded ones.
    std::printf("\nThe original model, %d more epochs:\n", kMoreEpochs);
    const auto original_more = fit_more(*model, d, args.epochs);

    for (const std::string path : {"saved_model/my_model", "my_model.h5"}) {
      std::printf("\nnew_model = tf.keras.models.load_model('%s')\n", path.c_str());
      std::shared_ptr<keras::Model> new_model = keras::load_model(path);
      // Check its architecture.
      new_model->summary();
      // Evaluate the restored model.
      const keras::Logs restored = evaluate_test(*new_model, d);
      print_accuracy("Restored", restored.at("accuracy"));
      const Tensor predictions = new_model->predict(d.test_images);
      std::printf("(%" PRId64 ", %" PRId64 ")\n", predictions.shape()[0], predictions.shape()[1]);
      check(restored.at("accuracy") == trained.at("accuracy") && restored.at("loss") == trained.at("loss"),
            "the model loaded from " + path + " evaluates differently from the saved model");

      // Continue training where the saved model stopped.
      const int64_t loaded_iterations = new_model->optimizer()->iterations_value();
      std::printf("new_model.optimizer.iterations = %" PRId64 "\n", loaded_iterations);
      check(loaded_iterations == iterations, "the loaded optimizer should be at iteration " + std::to_string(iterations));
      const auto more = fit_more(*new_model, d, args.epochs);
      std::printf("loss before saving: %s, after loading: %s\n", losses(*history).c_str(), losses(*more).c_str());
      std::printf("new_model.optimizer.iterations = %" PRId64 "\n", new_model->optimizer()->iterations_value());
      const bool same = same_weights(*new_model, *model) && more->at("loss") == original_more->at("loss");
      std::printf("weights after %d more epochs %s those of the original model continued\n", kMoreEpochs,
                  same ? "equal bit for bit" : "DIFFER from");
      check(same, "training continued from " + path + " should match the original model's continuation");
      check(more->at("loss").front() < history->at("loss").front(),
            "the continued training's loss should stay below the first epoch's");
    }

    // For contrast: only the weights, into a fresh model. Its Adam starts again at iteration 0.
    std::printf("\nmodel = create_model(); model.load_weights('my_weights.h5')  (weights only)\n");
    auto weights_only = create_model();
    weights_only->load_weights("my_weights.h5");
    std::printf("model.optimizer.iterations = %" PRId64 "\n", weights_only->optimizer()->iterations_value());
    const auto restarted = fit_more(*weights_only, d, args.epochs);
    std::printf("loss with a fresh optimizer: %s (the original continued: %s)\n", losses(*restarted).c_str(),
                losses(*original_more).c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "tutorial_save_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
