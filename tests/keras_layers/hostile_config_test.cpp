// Model configs that used to crash model_from_json (out-of-range tensor references, deep nesting, shape
// products past int64) or let a huge weight escape as std::bad_alloc: each is a keel::Error naming the
// layer and what is wrong.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <iostream>

#include "keel/keras/json_depth.h"
#include "keel/keras/layers/layers.h"

using namespace keel;
using namespace keel::keras;

namespace {

std::string error_of(const std::string& json) {
  try {
    model_from_json(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Input [None, 6] -> Dense "d1" whose inbound node is `ref`, output d1[0][0].
std::string functional_with_ref(const std::string& ref, const std::string& output = "[\"d1\", 0, 0]") {
  return R"({"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "name": "in"}, "name": "in",
     "inbound_nodes": []},
    {"class_name": "Dense", "config": {"name": "d1", "units": 4}, "name": "d1", "inbound_nodes": [[)" +
         ref + R"(]]}],
    "input_layers": [["in", 0, 0]], "output_layers": [)" + output + "]}}";
}

// Sequential: Input [None] + `input_dims`, then the layers given as JSON objects.
std::string sequential(const std::string& input_dims, const std::string& layers) {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, )" +
         input_dims + R"(], "name": "in"}}, )" + layers + "]}}";
}

}  // namespace

TEST(KerasHostileConfig, NegativeNodeOrTensorIndicesAreErrors) {
  backend::NameScope scope;
  ASSERT_EQ(error_of(functional_with_ref(R"(["in", 0, 0, {}])")), "no error");
  EXPECT_EQ(error_of(functional_with_ref(R"(["in", -1, 0, {}])")),
            "model config: tensor reference [\"in\",-1,0,{}] to layer 'in': node and tensor indices must be "
            "non-negative integers");
  EXPECT_EQ(error_of(functional_with_ref(R"(["in", 0, -1, {}])")),
            "model config: tensor reference [\"in\",0,-1,{}] to layer 'in': node and tensor indices must be "
            "non-negative integers");
  EXPECT_EQ(error_of(functional_with_ref(R"(["in", 0, 0, {}])", R"(["d1", 0, -3])")),
            "model config: tensor reference [\"d1\",0,-3] to layer 'd1': node and tensor indices must be "
            "non-negative integers");
  EXPECT_EQ(error_of(functional_with_ref(R"(["in", 0.5, 0, {}])")),
            "model config: tensor reference [\"in\",0.5,0,{}] to layer 'in': node and tensor indices must be "
            "non-negative integers");
}

TEST(KerasHostileConfig, DeeplyNestedJsonIsAnErrorNotAStackOverflow) {
  backend::NameScope scope;
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const std::string text = sequential("6", R"({"class_name": "Dense", "config": {"name": "d", "units": 2,
      "kernel_initializer": {"class_name": "Zeros", "config": )" + deep + "}}}");
  const std::string e = error_of(text);
  EXPECT_EQ(e.rfind("model_from_json: JSON nests deeper than 512 levels (at byte ", 0), 0u) << e;
  // Brackets inside strings do not count, and Keras-sized nesting is fine.
  EXPECT_NO_THROW(check_json_depth("{\"name\": \"" + deep + "\"}", "test"));
  std::string nested = R"({"class_name": "Dense", "config": {"name": "x", "units": 2}})";
  for (int i = 0; i < 100; ++i)
    nested = R"({"class_name": "Sequential", "config": {"name": "n)" + std::to_string(i) + R"(", "layers": [)" +
             nested + "]}}";
  EXPECT_NO_THROW(model_from_json(nested));
}

TEST(KerasHostileConfig, ShapeProductsPastInt64AreErrorsNamingTheLayer) {
  backend::NameScope scope;
  // 2^32 * 2^32 wrapped to 0 and Flatten gave [None,0]; 3037000500^2 wrapped negative and passed.
  EXPECT_EQ(error_of(sequential("4294967296, 4294967296, 4", R"({"class_name": "Flatten", "config": {"name": "f"}})")),
            "Flatten 'f': the element count of input [None,4294967296,4294967296,4] overflows int64");
  EXPECT_EQ(error_of(sequential("3037000500, 3037000500", R"({"class_name": "Flatten", "config": {"name": "f"}})")),
            "Flatten 'f': the element count of input [None,3037000500,3037000500] overflows int64");
  EXPECT_EQ(error_of(sequential("4294967296, 4294967296",
                                R"({"class_name": "Reshape", "config": {"name": "r", "target_shape": [-1]}})")),
            "Reshape 'r': the element count of input [None,4294967296,4294967296] overflows int64");
  // The target's product wrapped to 0 and the -1 was inferred by a division by zero (SIGFPE).
  EXPECT_EQ(error_of(sequential("6", R"({"class_name": "Reshape", "config": {"name": "r",
                                         "target_shape": [4294967296, 4294967296, -1]}})")),
            "Reshape 'r': the element count of target_shape [4294967296,4294967296,-1] overflows int64");
}

// A dimension below -1 was read as None.
TEST(KerasHostileConfig, NegativeInputDimensionsAreErrors) {
  backend::NameScope scope;
  EXPECT_EQ(error_of(sequential("-6", R"({"class_name": "Dense", "config": {"name": "d", "units": 4}})")),
            "InputLayer 'in': invalid input shape [-1,-6]: a dimension is a size (>= 0) or None (-1)");
  try {
    layers::Dense(DenseOptions(4).name("d2").input_shape({-6}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Dense 'd2': invalid input shape [-1,-6]: a dimension is a size (>= 0) or None (-1)");
  }
  EXPECT_EQ(error_of(sequential("null", R"({"class_name": "Dense", "config": {"name": "d", "units": 4}})")),
            "Dense 'd': the last dimension of the input must be known, got [None,None]");
}

TEST(KerasHostileConfig, WeightsPastInt64AreErrorsNamingTheLayer) {
  backend::NameScope scope;
  EXPECT_EQ(error_of(sequential("4611686018427387904", R"({"class_name": "Dense", "config": {"name": "d", "units": 4}})")),
            "Dense 'd': weight 'd/kernel' [4611686018427387904,4] has more bytes than int64 counts");
}

// Without a file to bound it (load_model has one), a weight the machine cannot hold used to escape as
// std::bad_alloc. The child process caps its address space so that the attempt fails wherever it runs.
static void huge_dense_in_capped_process() {
  const rlim_t cap = rlim_t{64} << 30;
  const rlimit r{cap, cap};
  setrlimit(RLIMIT_AS, &r);
  backend::NameScope scope;
  std::cerr << error_of(sequential("6", R"({"class_name": "Dense", "config": {"name": "d", "units": 1000000000000}})"));
  std::exit(0);
}

TEST(KerasHostileConfigDeathTest, UnallocatableWeightIsAnErrorNamingTheLayer) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer aborts on allocations it cannot serve";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(huge_dense_in_capped_process(), ::testing::ExitedWithCode(0),
              "Dense 'd': weight 'd/kernel' \\[6,1000000000000\\] needs 24000000000000 bytes, which cannot be "
              "allocated");
#endif
}
