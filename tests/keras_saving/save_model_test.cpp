// save_model / load_model: HDF5 and directory round trips, crash safety, real files, errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "keel/checkpoint/bundle.h"
#include "keel/graph/error.h"
#include "keel/keras/layers/layers.h"
#include "keel/keras/saving/save_model.h"
#include "keel/keras/saving/weights.h"
#include "../keras_h5/h5_test_util.h"
#include "reference.h"

namespace keel::keras {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

Tensor input_batch(std::vector<int64_t> shape) {
  const auto r = test::test_input(shape);
  std::vector<float> v(r.v.begin(), r.v.end());
  return Tensor::from_vector<float>(v, Shape(shape.begin(), shape.end()));
}

std::shared_ptr<Model> sequential_model() {
  return std::make_shared<Sequential>(std::vector<LayerArg>{
      layers::Conv2D(Conv2DOptions(3, 3).activation("relu").padding("same").input_shape({6, 6, 2})),
      layers::Flatten(), layers::Dense(8, "tanh"), layers::Dropout(0.5), layers::Dense(4, "softmax")});
}

std::shared_ptr<Model> functional_model() {
  auto x = Input({6});
  auto a = layers::Dense(4, "relu")(x);
  auto b = layers::Dense(5, "tanh")(x);
  auto c = layers::Concatenate()(std::vector<KerasTensor>{a, b}).at(0);
  auto out = layers::Dense(3)(c);
  return std::make_shared<Model>(x, out, "two_branches");
}

void expect_same_model(Model& a, Model& b, const Tensor& x) {
  EXPECT_EQ(a.to_json(), b.to_json());
  const auto wa = a.get_weights(), wb = b.get_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(wa[i].equal(wb[i])) << "weight " << i;
  EXPECT_TRUE(a(x).equal(b(x)));  // bit for bit
}

struct Case {
  const char* name;
  std::shared_ptr<Model> (*make)();
  std::vector<int64_t> input;
};
const Case kCases[] = {{"sequential", sequential_model, {2, 6, 6, 2}}, {"functional", functional_model, {3, 6}}};

TEST(KerasSaveModel, H5RoundTripRebuildsFromConfigBitForBit) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ScratchDir dir;
    auto m = c.make();
    save_model(*m, dir.path("m.h5"));
    const KerasH5File f = read_keras_h5(dir.path("m.h5"));
    EXPECT_EQ(f.layout, KerasH5Layout::full_model);
    EXPECT_FALSE(f.training_config.has_value());
    EXPECT_TRUE(f.optimizer_weights.empty());
    auto back = load_model(dir.path("m.h5"));
    expect_same_model(*m, *back, input_batch(c.input));
  }
}

TEST(KerasSaveModel, DirectoryRoundTripRebuildsFromConfigBitForBit) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ScratchDir dir;
    auto m = c.make();
    const std::string path = dir.path("export");
    save_model(*m, path);
    EXPECT_TRUE(fs::is_regular_file(path + "/saved_model.pb"));
    EXPECT_TRUE(fs::is_regular_file(path + "/variables/variables.index"));
    EXPECT_TRUE(fs::is_regular_file(path + "/variables/variables.data-00000-of-00001"));
    EXPECT_TRUE(fs::is_directory(path + "/assets"));
    BundleReader r(path + "/variables/variables");
    EXPECT_TRUE(r.contains("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
    const auto pb = parse_saved_model(std::string(test::read_bytes(path + "/saved_model.pb").data(),
                                                  test::read_bytes(path + "/saved_model.pb").size()),
                                      "pb");
    EXPECT_EQ(pb.model_config, m->to_json());
    EXPECT_FALSE(pb.object_graph.empty());
    auto back = load_model(path);
    expect_same_model(*m, *back, input_batch(c.input));
  }
}

TEST(KerasSaveModel, OverwriteReplacesAndLeavesNoTemporaries) {
  ScratchDir dir;
  const std::string path = dir.path("export");
  auto a = functional_model(), b = functional_model();
  save_model(*a, path);
  save_model(*b, path);
  auto back = load_model(path);
  expect_same_model(*b, *back, input_batch({2, 6}));
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.dir())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

// Runs save_model(model, path) in a child that exits with 3 at `stage`; returns the child's exit code.
int exit_code_of_save_killed_at(const Model& model, const std::string& path, const std::string& stage) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      save_model(model, path, [&](const char* s) {
        if (stage == s) ::_exit(3);
      });
    } catch (...) {
    }
    ::_exit(0);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(KerasSaveModel, KilledSaveLeavesTheOldDirectoryIntact) {
  ScratchDir dir;
  const std::string path = dir.path("export");
  auto old_model = functional_model(), new_model = functional_model();
  save_model(*old_model, path);
  // killed before the swap
  ASSERT_EQ(exit_code_of_save_killed_at(*new_model, path, "temp_written"), 3);
  auto back = load_model(path);
  expect_same_model(*old_model, *back, input_batch({2, 6}));
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// What else the directory holds (ModelCheckpoint's files, the user's notes) survives an overwrite, and
// a save killed after swapping the directories but before moving them back gets them back on the next save.
TEST(KerasSaveModel, OverwriteKeepsTheDirectorysOtherEntries) {
  ScratchDir dir;
  const std::string path = dir.path("training_1");
  auto a = functional_model(), b = functional_model(), c = functional_model();
  save_model(*a, path);
  fs::create_directories(path + "/ckpts");
  write_text(path + "/ckpts/checkpoint", "model_checkpoint_path: \"cp-0001.ckpt\"\n");
  write_text(path + "/my_notes.txt", "epoch 3 looked best");
  save_model(*b, path);
  expect_same_model(*b, *load_model(path), input_batch({2, 6}));
  EXPECT_EQ(read_text(path + "/my_notes.txt"), "epoch 3 looked best");
  EXPECT_EQ(read_text(path + "/ckpts/checkpoint"), "model_checkpoint_path: \"cp-0001.ckpt\"\n");

  // killed with the notes in the old directory
  ASSERT_EQ(exit_code_of_save_killed_at(*c, path, "moving_back"), 3);
  expect_same_model(*c, *load_model(path), input_batch({2, 6}));
  EXPECT_FALSE(fs::exists(path + "/my_notes.txt"));  // in the killed save's temporary, not lost
  save_model(*a, path);
  expect_same_model(*a, *load_model(path), input_batch({2, 6}));
  EXPECT_EQ(read_text(path + "/my_notes.txt"), "epoch 3 looked best");
  EXPECT_EQ(read_text(path + "/ckpts/checkpoint"), "model_checkpoint_path: \"cp-0001.ckpt\"\n");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.dir())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // the temporaries are gone
}

// A model_config that is malformed or asks for more than the file's weights can hold is an error naming
// the file and the layer: never a raw JSON exception, never an allocation the file cannot justify.
TEST(KerasSaveModel, HostileModelConfigsAreErrorsNamingTheFile) {
  ScratchDir dir;
  auto m = functional_model();
  const std::string model_dir = dir.path("export"), h5 = dir.path("m.h5");
  save_model(*m, model_dir);
  save_model(*m, h5);
  const std::string pb_path = model_dir + "/saved_model.pb";
  const SavedModelProto pb = parse_saved_model(read_text(pb_path), pb_path);
  const KerasH5File f = read_keras_h5(h5);
  auto load_with = [&](const std::function<void(nlohmann::json&)>& edit, bool as_h5) {
    nlohmann::json config = nlohmann::json::parse(pb.model_config);
    edit(config);
    std::string path = model_dir;
    if (as_h5) {
      KerasH5File g = f;
      g.model_config = config.dump();
      write_keras_h5_model(path = dir.path("edited.h5"), g);
    } else {
      SavedModelProto edited = pb;
      edited.model_config = config.dump();
      write_text(pb_path, serialize_saved_model(edited));
    }
    try {
      load_model(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto dense = [](nlohmann::json& c) -> nlohmann::json& { return c["config"]["layers"][1]["config"]; };
  nlohmann::json original = nlohmann::json::parse(pb.model_config);
  const std::string name = dense(original)["name"].get<std::string>();  // "dense", or "dense_N" after other tests
  EXPECT_EQ(load_with([&](nlohmann::json& c) { dense(c)["units"] = "four"; }, false),
            "load_model: " + pb_path + ": model_config: layer config of Dense \"" + name + "\": "
            "[json.exception.type_error.302] type must be number, but is string");
  EXPECT_EQ(load_with([&](nlohmann::json& c) { dense(c).erase("units"); }, true),
            "load_model: " + dir.path("edited.h5") + ": model_config: layer config of Dense \"" + name + "\": "
            "[json.exception.out_of_range.403] key 'units' not found");
  const std::string huge = load_with([&](nlohmann::json& c) { dense(c)["units"] = int64_t{1} << 40; }, false);
  EXPECT_EQ(huge.rfind("load_model: " + pb_path + ": model_config: Dense '" + name + "': weight '" + name +
                       "/kernel' [6,1099511627776] would take 26388279066624 bytes, more than twice the ", 0), 0u) << huge;
  EXPECT_NE(huge.find(" bytes of weights in " + model_dir + "/variables and 1 MiB allow ("), std::string::npos);
  const std::string huge_h5 = load_with([&](nlohmann::json& c) { dense(c)["units"] = 100000000; }, true);
  EXPECT_NE(huge_h5.find("weight '" + name + "/kernel' [6,100000000] would take 2400000000 bytes"), std::string::npos)
      << huge_h5;
  EXPECT_EQ(load_with([&](nlohmann::json& c) { c["class_name"] = 7; }, false),
            "load_model: " + pb_path + ": model_config: model config: [json.exception.type_error.302] type must be "
            "string, but is number");
}

TEST(KerasSaveModel, LoadsRealKerasFullModelFile) {
  const std::string file = test::keras_fixture("tf215_iris_dnn.h5");
  auto m = load_model(file);
  const KerasH5File f = read_keras_h5(file);
  const auto x = test::test_input({5, 4});
  const auto want = test::reference_forward(nlohmann::json::parse(*f.model_config), f, x);
  const Tensor got = (*m)(input_batch({5, 4}));
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.v.size()));
  for (size_t i = 0; i < want.v.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want.v[i], 1e-5);
}

TEST(KerasSaveModel, ErrorsNameTheProblem) {
  try {
    load_model(test::keras_fixture("tf21_gru_known_weights.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Unknown layer: 'GRU'"), std::string::npos) << e.what();
  }
  ScratchDir dir;
  auto m = functional_model();
  save_weights(*m, dir.path("w.h5"));
  try {
    load_model(dir.path("w.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "load_model: " + dir.path("w.h5") +
                                         " has no model_config (a save_weights file? use load_weights)");
  }
  try {
    parse_saved_model(std::string("\x0a\x05hello", 7), "x.pb");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "load_model: x.pb is not a keel Keras SavedModel (format marker 'hello', expected "
              "'keel.keras.saved_model')");
  }
  EXPECT_THROW(parse_saved_model(std::string("\x22\x7f", 2), "t.pb"), Error);  // length past the end
}

}  // namespace
}  // namespace keel::keras
