// An Embedding + LSTM sequence classifier, trained with fit, saved with model.save (a SavedModel-style
// directory), reloaded with keras::load_model and trained further, as Keras users do with text models:
//
//   model = tf.keras.Sequential([
//       layers.Embedding(10, 16, input_length=12),
//       layers.LSTM(32),
//       layers.Dense(2, activation='softmax')])
//   model.compile(optimizer=Adam(0.01), loss='sparse_categorical_crossentropy', metrics=['accuracy'])
//   model.fit(x_train, y_train, epochs=3, validation_data=(x_test, y_test))
//   model.save('sequence_model')
//   new_model = tf.keras.models.load_model('sequence_model')
//   new_model.fit(x_train, y_train, initial_epoch=3, epochs=6, validation_data=(x_test, y_test))
//
// No text data set ships with Debian, so the program makes its task: sequences of 12 tokens from a
// vocabulary of 10, each holding exactly one 7 and one 3 at random places, the other tokens drawn from
// the remaining 8; the label is 1 when the 7 comes before the 3. Every sequence has the same counts of 7
// and 3 and the other tokens are independent of the label, so an order-free model (bag of words) is
// right half the time in expectation; only the order carries the answer, which the LSTM must remember
// across the steps between the two tokens.
//
// Usage: keel-example-sequence_lstm [WORKDIR] [--epochs N] [--samples N] [--seed N]
// (default ./keel_sequence_lstm, 3 epochs before saving and 3 after, 2,000 training sequences; 500
// test sequences). Exits 1 unless the reloaded model evaluates exactly as the saved one, its optimizer
// continues from the saved iterations, and the final test accuracy is at least 0.90: chance (the best an
// order-free model can expect) is 0.50, and 500 test sequences put a chance-level model's accuracy
// within 0.50 +- 0.07 (3 standard deviations), so 0.90 can only come from using the order.
#include <cinttypes>
#include <random>

#include "tutorial_common.h"

#include "keel/keras/optimizers/adam.h"
#include "keel/keras/saving/save_model.h"

using namespace tutorial;

namespace {

constexpr int64_t kLength = 12, kVocab = 10, kTestSamples = 500;
constexpr int kFirst = 7, kSecond = 3;

struct Sequences {
  Tensor x, y;  // i32 [n, kLength], i32 [n]
};

Sequences make_sequences(int64_t n, std::mt19937_64& rng) {
  std::vector<int32_t> others;
  for (int t = 0; t < kVocab; ++t)
    if (t != kFirst && t != kSecond) others.push_back(t);
  std::uniform_int_distribution<size_t> other(0, others.size() - 1);
  std::uniform_int_distribution<int64_t> pos(0, kLength - 1);
  std::vector<int32_t> x(n * kLength), y(n);
  for (int64_t i = 0; i < n; ++i) {
    int32_t* row = &x[i * kLength];
    for (int64_t j = 0; j < kLength; ++j) row[j] = others[other(rng)];
    const int64_t a = pos(rng);
    int64_t b = pos(rng);
    while (b == a) b = pos(rng);
    row[a] = kFirst;
    row[b] = kSecond;
    y[i] = a < b ? 1 : 0;
  }
  return {Tensor::from_vector(x, {n, kLength}), Tensor::from_vector(y, {n})};
}

std::string tokens(const Tensor& x, int64_t i) {
  std::string s;
  for (int64_t j = 0; j < kLength; ++j) s += (j ? " " : "") + std::to_string(x.data<int32_t>()[i * kLength + j]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const TutorialArgs args = parse_tutorial_args(argc, argv, "keel_sequence_lstm", 3, 2000);
  try {
    enter_work_dir(args, {"sequence_model"});
    keras::utils::set_random_seed(args.seed);
    std::mt19937_64 rng(args.seed);
    const Sequences train = make_sequences(args.samples, rng), test = make_sequences(kTestSamples, rng);
    for (int64_t i = 0; i < 3; ++i)
      std::printf("x[%" PRId64 "] = [%s]  y = %d  (7 %s 3)\n", i, tokens(train.x, i).c_str(),
                  train.y.data<int32_t>()[i], train.y.data<int32_t>()[i] ? "before" : "after");

    auto model = std::make_shared<keras::Sequential>(std::vector<keras::LayerArg>{
        layers::Embedding(keras::EmbeddingOptions(kVocab, 16).input_length(kLength)),
        layers::LSTM(32),
        layers::Dense(2, "softmax"),
    });
    model->compile(keras::CompileOptions()
                       .optimizer(std::make_shared<keras::Adam>(keras::AdamOptions().learning_rate(0.01)))
                       .loss("sparse_categorical_crossentropy")
                       .metrics({"accuracy"}));
    model->summary();
    model->fit(train.x, train.y, keras::FitOptions().epochs(args.epochs).validation_data(test.x, test.y));
    const keras::Logs saved = model->evaluate(test.x, test.y, keras::EvaluateOptions().verbose(2));
    print_accuracy("Trained", saved.at("accuracy"));
    const int64_t iterations = model->optimizer()->iterations_value();

    model->save("sequence_model");
    std::printf("$ ls sequence_model\n");
    list_dir("sequence_model");

    std::printf("\nnew_model = tf.keras.models.load_model('sequence_model')\n");
    std::shared_ptr<keras::Model> new_model = keras::load_model("sequence_model");
    new_model->summary();
    const keras::Logs restored = new_model->evaluate(test.x, test.y, keras::EvaluateOptions().verbose(2));
    print_accuracy("Restored", restored.at("accuracy"));
    check(restored.at("accuracy") == saved.at("accuracy") && restored.at("loss") == saved.at("loss"),
          "the reloaded model evaluates differently from the saved one");
    std::printf("new_model.optimizer.iterations = %" PRId64 " (saved: %" PRId64 ")\n",
                new_model->optimizer()->iterations_value(), iterations);
    check(new_model->optimizer()->iterations_value() == iterations,
          "the reloaded optimizer should continue from the saved iterations");

    new_model->fit(train.x, train.y,
                   keras::FitOptions()
                       .initial_epoch(args.epochs)
                       .epochs(2 * args.epochs)
                       .validation_data(test.x, test.y));
    const keras::Logs final_logs = new_model->evaluate(test.x, test.y, keras::EvaluateOptions().verbose(2));
    print_accuracy("Further trained", final_logs.at("accuracy"));
    const Tensor p = new_model->predict(test.x);
    for (int64_t i = 0; i < 3; ++i)
      std::printf("[%s] -> P(7 before 3) = %.3f, truth %d\n", tokens(test.x, i).c_str(), p.data<float>()[2 * i + 1],
                  test.y.data<int32_t>()[i]);
    check(final_logs.at("accuracy") >= 0.90,
          "test accuracy " + std::to_string(final_logs.at("accuracy")) + " is below 0.90 (chance is 0.50)");
  } catch (const Error& e) {
    std::fprintf(stderr, "sequence_lstm: %s\n", e.what());
    return 1;
  }
  return 0;
}
