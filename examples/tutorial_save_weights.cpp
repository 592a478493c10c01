// The "Manually save weights" flow of Keras's "Save and load models" tutorial, in both weight formats:
//
//   model.save_weights('./checkpoints/my_checkpoint')      # TensorFlow checkpoint (tensor bundle)
//   model = create_model()
//   model.load_weights('./checkpoints/my_checkpoint')
//   loss, acc = model.evaluate(test_images, test_labels, verbose=2)
//   print("Restored model, accuracy: {:5.2f}%".format(100 * acc))
//
//   model.save_weights('./checkpoints/my_checkpoint.h5')   # Keras HDF5 weights file
//   ... the same with a fresh create_model()
//
// The model saved is trained first (model.fit(..., epochs=5) on the 1,000 images).
//
// Usage: keel-example-tutorial_save_weights [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_tutorial_save_weights, 5 epochs, 1,000 images). Exits 1 unless both restored models
// evaluate exactly as the trained one (test loss and accuracy) and the files are where the tutorial
// puts them.
#include <filesystem>

#include "tutorial_common.h"

#include "keel/checkpoint/checkpoint_state.h"

using namespace tutorial;

int main(int argc, char** argv) {
  const TutorialArgs args = parse_tutorial_args(argc, argv, "keel_tutorial_save_weights", 5);
  try {
    enter_work_dir(args, {"checkpoints"});
    keras::utils::set_random_seed(args.seed);
    const TutorialData d = load_tutorial_data(args.samples);

    auto model = create_model();
    model->fit(d.train_images, d.train_labels, keras::FitOptions().epochs(args.epochs));
    const keras::Logs trained = evaluate_test(*model, d);
    print_accuracy("Trained", trained.at("accuracy"));

    // Save the weights.
    model->save_weights("./checkpoints/my_checkpoint");
    model->save_weights("./checkpoints/my_checkpoint.h5");
    const auto files = list_dir("checkpoints");
    check(files == std::vector<std::string>({"checkpoint", "my_checkpoint.data-00000-of-00001", "my_checkpoint.h5",
                                             "my_checkpoint.index"}),
          "checkpoints/ should hold checkpoint, my_checkpoint.{data-00000-of-00001,index} and my_checkpoint.h5");
    const auto latest = latest_checkpoint("checkpoints");
    std::printf("tf.train.latest_checkpoint('checkpoints') = '%s'\n", latest ? latest->c_str() : "None");
    check(latest == std::string("checkpoints/my_checkpoint"), "latest_checkpoint should name checkpoints/my_checkpoint");

    for (const std::string path : {"./checkpoints/my_checkpoint", "./checkpoints/my_checkpoint.h5"}) {
      std::printf("\nmodel = create_model(); model.load_weights('%s')\n", path.c_str());
      // Create a new model instance and restore the weights.
      auto fresh = create_model();
      const keras::LoadWeightsResult r = fresh->load_weights(path);
      std::printf("restored %zu weights from %s (%s), %zu optimizer values\n", r.weights_loaded, r.path.c_str(),
                  r.h5 ? "HDF5" : "checkpoint", r.other_values_loaded);
      // Evaluate the model.
      const keras::Logs restored = evaluate_test(*fresh, d);
      print_accuracy("Restored", restored.at("accuracy"));
      check(restored.at("accuracy") == trained.at("accuracy") && restored.at("loss") == trained.at("loss"),
            "the model restored from " + path + " evaluates differently from the trained model");
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "tutorial_save_weights: %s\n", e.what());
    return 1;
  }
  return 0;
}
