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
// 32 batches = 160) and Adam's m and v slots equal bit for bit to the saved model's, and 2 more epochs
// on it count on from there with the loss still decreasing. The weights after those epochs are
// compared with 2 more epochs of the original model (same shuffling seed). For contrast, a fresh model
// given only the weights (load_weights of an .h5 weights file) starts its Adam at iteration 0.
//
// Usage: keel-example-tutorial_save_model [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_tutorial_save_model, 5 epochs then 2 more, 1,000 images). Exits 1 unless each reloaded
// model evaluates exactly as the saved one and has its iterations and slots, and unless the loss after
// loading stays below the last epoch's before saving.
#include <cinttypes>
#include <cmath>
#include <cstring>

#include "tutorial_common.h"

#include "keel/keras/saving/save_model.h"

using namespace tutorial;

namespace {

constexpr int kMoreEpochs = 2;
constexpr uint64_t kContinueShuffleSeed = 7;

bool same_floats(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == DType::f32 && b.dtype() == DType::f32 &&
         std::memcmp(a.data<float>(), b.data<float>(), a.numel() * sizeof(float)) == 0;
}

// Adam's m and v of each trainable weight, in model order, equal bit for bit.
bool same_slots(const keras::Model& a, const keras::Model& b) {
  const auto wa = a.trainable_weights(), wb = b.trainable_weights();
  if (wa.size() != wb.size()) return false;
  for (size_t i = 0; i < wa.size(); ++i) {
    for (const auto& slot : a.optimizer()->slot_names()) {
      const Variable sa = a.optimizer()->get_slot(wa[i], slot), sb = b.optimizer()->get_slot(wb[i], slot);
      if (!sa.defined() || !sb.defined() || !same_floats(sa.value(), sb.value())) return false;
    }
  }
  return true;
}

// "equal bit for bit to the original's", or the largest difference. (Training draws Dropout masks, so
// this shows whether the saved model carried its Dropout generators too.)
std::string compare_weights(const keras::Model& a, const keras::Model& b) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  double max_diff = 0;
  bool same = wa.size() == wb.size();
  for (size_t i = 0; same && i < wa.size(); ++i) {
    if (same_floats(wa[i], wb[i])) continue;
    if (wa[i].shape() != wb[i].shape()) return "a different layout from the original's";
    for (int64_t k = 0; k < wa[i].numel(); ++k)
      max_diff = std::max(max_diff, double(std::fabs(wa[i].data<float>()[k] - wb[i].data<float>()[k])));
  }
  if (same && max_diff == 0) return "equal bit for bit to the original model's continued";
  char buf[96];
  std::snprintf(buf, sizeof buf, "differ from the original model's continued by at most %.3g", max_diff);
  return buf;
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

    std::vector<std::shared_ptr<keras::Model>> loaded;
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

      // The optimizer state came with it: iterations, and Adam's m and v for every weight.
      const int64_t loaded_iterations = new_model->optimizer()->iterations_value();
      std::printf("new_model.optimizer.iterations = %" PRId64 "\n", loaded_iterations);
      check(loaded_iterations == iterations, "the loaded optimizer should be at iteration " + std::to_string(iterations));
      const bool slots = same_slots(*model, *new_model);
      std::printf("Adam slots m and v of all %zu weights %s\n", model->trainable_weights().size(),
                  slots ? "equal the saved model's bit for bit" : "DIFFER from the saved model's");
      check(slots, "the optimizer slots loaded from " + path + " differ from the saved model's");
      loaded.push_back(new_model);
    }

    // Continue training: the original model, then each loaded one, from where the original was saved.
    std::printf("\nThe original model, %d more epochs:\n", kMoreEpochs);
    const auto original_more = fit_more(*model, d, args.epochs);
    for (size_t i = 0; i < loaded.size(); ++i) {
      std::printf("\nnew_model (%s), %d more epochs:\n", i == 0 ? "saved_model/my_model" : "my_model.h5", kMoreEpochs);
      const auto more = fit_more(*loaded[i], d, args.epochs);
      std::printf("loss before saving: %s, after loading: %s\n", losses(*history).c_str(), losses(*more).c_str());
      std::printf("new_model.optimizer.iterations = %" PRId64 "\n", loaded[i]->optimizer()->iterations_value());
      std::printf("weights after %d more epochs: %s\n", kMoreEpochs, compare_weights(*loaded[i], *model).c_str());
      check(loaded[i]->optimizer()->iterations_value() == iterations + (iterations / args.epochs) * kMoreEpochs,
            "the loaded optimizer should count on from the saved iterations");
      check(more->at("loss").front() < history->at("loss").back(),
            "the loss should keep decreasing after loading (below the last epoch before saving)");
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
