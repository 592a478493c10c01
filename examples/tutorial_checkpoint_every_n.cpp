// The "Checkpoint callback options" flow of Keras's "Save and load models" tutorial: uniquely named
// checkpoints every 5 epochs, then the newest one restored into a fresh model:
//
//   checkpoint_path = "training_2/cp-{epoch:04d}.ckpt"
//   batch_size = 32
//   n_batches = math.ceil(len(train_images) / batch_size)
//   cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, verbose=1,
//                                                    save_weights_only=True, save_freq=5*n_batches)
//   model = create_model()
//   model.save_weights(checkpoint_path.format(epoch=0))
//   model.fit(train_images, train_labels, epochs=50, batch_size=batch_size, callbacks=[cp_callback],
//             validation_data=(test_images, test_labels), verbose=0)
//   os.listdir(checkpoint_dir)
//   latest = tf.train.latest_checkpoint(checkpoint_dir)
//   model = create_model()
//   model.load_weights(latest)
//   loss, acc = model.evaluate(test_images, test_labels, verbose=2)
//   print("Restored model, accuracy: {:5.2f}%".format(100 * acc))
//
// Then the same with the older spelling the tutorial's earlier versions used, period=5 (every 5
// epochs, save_freq="epoch"), into training_2_period/: the same files.
//
// Usage: keel-example-tutorial_checkpoint_every_n [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_tutorial_checkpoint_every_n, 50 epochs, 1,000 images). Exits 1 unless both runs wrote
// cp-0000 and every fifth epoch's checkpoint, latest_checkpoint names the last of them, and the model
// restored from it evaluates exactly as the trained model (loss and accuracy).
#include <cinttypes>

#include "tutorial_common.h"

#include "keel/checkpoint/checkpoint_state.h"
#include "keel/keras/callbacks/model_checkpoint.h"

using namespace tutorial;

namespace {

// "cp-0005.ckpt" for epoch 5: checkpoint_path.format(epoch=5), without the directory.
std::string checkpoint_name(int epoch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "cp-%04d.ckpt", epoch);
  return buf;
}

// What os.listdir(checkpoint_dir) must show: the state file and cp-0000, cp-0005, ... bundles.
std::vector<std::string> expected_files(int epochs) {
  std::vector<std::string> names = {"checkpoint"};
  for (int e = 0; e <= epochs; e += 5) {
    names.push_back(checkpoint_name(e) + ".data-00000-of-00001");
    names.push_back(checkpoint_name(e) + ".index");
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  const TutorialArgs args = parse_tutorial_args(argc, argv, "keel_tutorial_checkpoint_every_n", 50);
  try {
    enter_work_dir(args, {"training_2", "training_2_period"});
    keras::utils::set_random_seed(args.seed);
    const TutorialData d = load_tutorial_data(args.samples);

    // Include the epoch in the file name (uses `str.format`).
    const std::string checkpoint_path = "training_2/cp-{epoch:04d}.ckpt";
    const std::string checkpoint_dir = "training_2";
    const int64_t batch_size = 32;
    // Calculate the number of batches per epoch.
    const int64_t n_batches = (d.train_images.shape()[0] + batch_size - 1) / batch_size;
    std::printf("n_batches = %" PRId64 ", save_freq = 5 * n_batches = %" PRId64 "\n", n_batches, 5 * n_batches);

    // Create a callback that saves the model's weights every 5 epochs.
    auto cp_callback = std::make_shared<keras::ModelCheckpoint>(
        checkpoint_path,
        keras::ModelCheckpointOptions().verbose(1).save_weights_only(true).save_freq(5 * n_batches));

    auto model = create_model();
    // Save the weights using the `checkpoint_path` format.
    model->save_weights(checkpoint_dir + "/" + checkpoint_name(0));
    // Train the model with the new callback.
    model->fit(d.train_images, d.train_labels,
               keras::FitOptions()
                   .epochs(args.epochs)
                   .batch_size(batch_size)
                   .callback(cp_callback)
                   .validation_data(d.test_images, d.test_labels)
                   .verbose(0));
    const keras::Logs trained = evaluate_test(*model, d, 0);

    const int last_saved = args.epochs / 5 * 5;
    check(list_dir(checkpoint_dir) == expected_files(args.epochs),
          "training_2/ should hold the state file and cp-0000 and every fifth epoch's checkpoint");

    const std::optional<std::string> latest = latest_checkpoint(checkpoint_dir);
    std::printf("latest = %s\n", latest ? ("'" + *latest + "'").c_str() : "None");
    check(latest == checkpoint_dir + "/" + checkpoint_name(last_saved),
          "latest_checkpoint should name " + checkpoint_name(last_saved));

    // Create a new model instance, load the previously saved weights and re-evaluate the model.
    auto restored_model = create_model();
    restored_model->load_weights(*latest);
    const keras::Logs restored = evaluate_test(*restored_model, d);
    print_accuracy("Restored", restored.at("accuracy"));
    if (last_saved == args.epochs) {
      print_accuracy("Trained", trained.at("accuracy"));
      check(restored.at("accuracy") == trained.at("accuracy") && restored.at("loss") == trained.at("loss"),
            "the model restored from the last checkpoint evaluates differently from the trained model");
    }

    // The same schedule with `period` (Keras's deprecated argument): save_freq "epoch", every 5th.
    std::printf("\nperiod=5 into training_2_period/\n");
    auto period_callback = std::make_shared<keras::ModelCheckpoint>(
        "training_2_period/cp-{epoch:04d}.ckpt",
        keras::ModelCheckpointOptions().verbose(1).save_weights_only(true).period(5));
    auto period_model = create_model();
    period_model->save_weights("training_2_period/" + checkpoint_name(0));
    period_model->fit(d.train_images, d.train_labels,
                      keras::FitOptions().epochs(args.epochs).batch_size(batch_size).callback(period_callback).verbose(0));
    check(list_dir("training_2_period") == expected_files(args.epochs),
          "period=5 should write the same checkpoints as save_freq=5*n_batches");
    const auto period_latest = latest_checkpoint("training_2_period");
    std::printf("latest = '%s'\n", period_latest ? period_latest->c_str() : "None");
    check(period_latest == "training_2_period/" + checkpoint_name(last_saved),
          "latest_checkpoint(training_2_period) should name " + checkpoint_name(last_saved));
  } catch (const Error& e) {
    std::fprintf(stderr, "tutorial_checkpoint_every_n: %s\n", e.what());
    return 1;
  }
  return 0;
}
