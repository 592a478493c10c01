// The "Save checkpoints during training" flow of Keras's "Save and load models" tutorial:
//
//   checkpoint_path = "training_1/cp.ckpt"
//   cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, save_weights_only=True, verbose=1)
//   model.fit(train_images, train_labels, epochs=10, validation_data=(test_images, test_labels),
//             callbacks=[cp_callback])
//   os.listdir(checkpoint_dir)
//   model = create_model()
//   loss, acc = model.evaluate(test_images, test_labels, verbose=2)
//   print("Untrained model, accuracy: {:5.2f}%".format(100 * acc))
//   model.load_weights(checkpoint_path)
//   loss, acc = model.evaluate(test_images, test_labels, verbose=2)
//   print("Restored model, accuracy: {:5.2f}%".format(100 * acc))
//
// Usage: keel-example-tutorial_checkpoint_callback [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_tutorial_checkpoint_callback, 10 epochs, 1,000 images). Exits 1 unless the restored
// model's test loss and accuracy equal the trained model's exactly, and the untrained model's accuracy
// is below the restored one.
#include "tutorial_common.h"

#include "keel/keras/callbacks/model_checkpoint.h"

using namespace tutorial;

int main(int argc, char** argv) {
  const TutorialArgs args = parse_tutorial_args(argc, argv, "keel_tutorial_checkpoint_callback", 10);
  try {
    enter_work_dir(args, {"training_1"});
    keras::utils::set_random_seed(args.seed);
    const TutorialData d = load_tutorial_data(args.samples);

    auto model = create_model();
    model->summary();

    const std::string checkpoint_path = "training_1/cp.ckpt";
    const std::string checkpoint_dir = "training_1";
    // Create a callback that saves the model's weights.
    auto cp_callback = std::make_shared<keras::ModelCheckpoint>(
        checkpoint_path, keras::ModelCheckpointOptions().save_weights_only(true).verbose(1));
    // Train the model with the new callback.
    model->fit(d.train_images, d.train_labels,
               keras::FitOptions()
                   .epochs(args.epochs)
                   .validation_data(d.test_images, d.test_labels)
                   .callback(cp_callback));  // Pass callback to training
    const keras::Logs trained = evaluate_test(*model, d, 0);

    // This may generate warnings related to saving the state of the optimizer. (Not in keel: the
    // checkpoint holds the optimizer's slots too.)
    const auto files = list_dir(checkpoint_dir);
    const std::vector<std::string> expected = {"checkpoint", "cp.ckpt.data-00000-of-00001", "cp.ckpt.index"};
    check(files == expected, "training_1/ should hold checkpoint, cp.ckpt.data-00000-of-00001 and cp.ckpt.index");

    // Create a basic model instance and evaluate it untrained.
    auto fresh = create_model();
    const double untrained = evaluate_test(*fresh, d).at("accuracy");
    print_accuracy("Untrained", untrained);

    // Loads the weights and re-evaluates.
    fresh->load_weights(checkpoint_path);
    const keras::Logs restored = evaluate_test(*fresh, d);
    print_accuracy("Restored", restored.at("accuracy"));

    print_accuracy("Trained", trained.at("accuracy"));
    check(restored.at("accuracy") == trained.at("accuracy") && restored.at("loss") == trained.at("loss"),
          "the restored model's test loss and accuracy differ from the trained model's");
    check(untrained < restored.at("accuracy"), "the untrained model is as accurate as the restored one");
  } catch (const Error& e) {
    std::fprintf(stderr, "tutorial_checkpoint_callback: %s\n", e.what());
    return 1;
  }
  return 0;
}
