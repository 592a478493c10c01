// Key naming against the exact names TensorFlow writes (trackable_utils.py and real checkpoints).
#include <gtest/gtest.h>

#include <set>

#include "keel/checkpoint/object_path.h"

namespace keel {
namespace {

TEST(ObjectPath, EscapeLocalName) {
  EXPECT_EQ(escape_local_name("kernel"), "kernel");
  EXPECT_EQ(escape_local_name("layer_with_weights-0"), "layer_with_weights-0");
  EXPECT_EQ(escape_local_name("a.b"), "a..b");
  EXPECT_EQ(escape_local_name("a/b"), "a.Sb");
  EXPECT_EQ(escape_local_name("."), "..");
  EXPECT_EQ(escape_local_name("/"), ".S");
  EXPECT_EQ(escape_local_name("./"), "...S");
  EXPECT_EQ(escape_local_name("/."), ".S..");
  EXPECT_EQ(escape_local_name(".S"), "..S");  // a literal ".S" stays distinguishable from "/"
  EXPECT_EQ(escape_local_name(""), "");
  EXPECT_EQ(escape_local_name("dense/kernel:0"), "dense.Skernel:0");
}

TEST(ObjectPath, UnescapeInvertsEscapeForEveryShortString) {
  // Every string over {'.', '/', 'S', 'a'} up to length 5: escape is injective and unescape inverts it.
  const std::string alphabet = "./Sa";
  std::vector<std::string> all{""};
  for (size_t len = 1; len <= 5; ++len) {
    std::vector<std::string> next;
    for (const auto& s : all) {
      if (s.size() != len - 1) continue;
      for (char c : alphabet) next.push_back(s + c);
    }
    all.insert(all.end(), next.begin(), next.end());
  }
  std::set<std::string> escaped;
  for (const auto& s : all) {
    const std::string e = escape_local_name(s);
    EXPECT_EQ(e.find('/'), std::string::npos) << s;
    EXPECT_TRUE(escaped.insert(e).second) << "collision for " << s;
    auto back = unescape_local_name(e);
    ASSERT_TRUE(back.has_value()) << e;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(escaped.size(), all.size());
}

TEST(ObjectPath, UnescapeRejectsWhatEscapeCannotProduce) {
  EXPECT_FALSE(unescape_local_name(".").has_value());
  EXPECT_FALSE(unescape_local_name("a.").has_value());
  EXPECT_FALSE(unescape_local_name(".x").has_value());
  EXPECT_FALSE(unescape_local_name(".ATTRIBUTES").has_value());
  EXPECT_FALSE(unescape_local_name("a/b").has_value());
}

TEST(ObjectPath, PathsAndKeysMatchTensorFlow) {
  EXPECT_EQ(object_path({}), "");
  EXPECT_EQ(object_path({"net", "layer_with_weights-0", "kernel"}), "net/layer_with_weights-0/kernel");
  EXPECT_EQ(object_path({"a.b", "c/d"}), "a..b/c.Sd");
  EXPECT_EQ(child_path("", "save_counter"), "save_counter");
  EXPECT_EQ(child_path("net", "optimizer"), "net/optimizer");
  EXPECT_EQ(variable_key("save_counter"), "save_counter/.ATTRIBUTES/VARIABLE_VALUE");
  EXPECT_EQ(variable_key("net/layer_with_weights-0/kernel"),
            "net/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  EXPECT_EQ(variable_key(object_path({"net", "optimizer", "_variables", "1"})),
            "net/optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE");
  EXPECT_EQ(attribute_key("trainer", "KEEL_STATE"), "trainer/.ATTRIBUTES/KEEL_STATE");
  EXPECT_EQ(attribute_key("layer", "OBJECT_CONFIG_JSON"), "layer/.ATTRIBUTES/OBJECT_CONFIG_JSON");
  EXPECT_EQ(attribute_key("x", "a/b.c"), "x/.ATTRIBUTES/a.Sb..c");
  // The older optimizer layout, as in the basic_regression_dnn SavedModel.
  EXPECT_EQ(slot_path("layer_with_weights-1/kernel", "optimizer", "m"),
            "layer_with_weights-1/kernel/.OPTIMIZER_SLOT/optimizer/m");
  EXPECT_EQ(slot_key("layer_with_weights-1/kernel", "optimizer", "m"),
            "layer_with_weights-1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE");
  EXPECT_EQ(slot_key("model/dense/bias", "net/optimizer", "velocity/x"),
            "model/dense/bias/.OPTIMIZER_SLOT/net/optimizer/velocity.Sx/.ATTRIBUTES/VARIABLE_VALUE");
}

TEST(ObjectPath, SplitKeys) {
  auto p = split_attribute_key("net/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->object_path, "net/layer_with_weights-0/kernel");
  EXPECT_EQ(p->attribute_name, "VARIABLE_VALUE");
  auto q = split_attribute_key("a..b/.ATTRIBUTES/x.Sy");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->object_path, "a..b");
  EXPECT_EQ(q->attribute_name, "x/y");
  EXPECT_FALSE(split_attribute_key("_CHECKPOINTABLE_OBJECT_GRAPH").has_value());
  EXPECT_FALSE(split_attribute_key("a/.ATTRIBUTES/.bad").has_value());

  auto names = split_object_path("a..b/c.Sd/e");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::vector<std::string>{"a.b", "c/d", "e"}));
  EXPECT_EQ(split_object_path("")->size(), 0u);
  EXPECT_FALSE(split_object_path("x/.OPTIMIZER_SLOT/y").has_value());
  // Round trip through object_path for names with every special character.
  const std::vector<std::string> raw{"..", "//", "./.", "S", ".S", "layer-0"};
  EXPECT_EQ(*split_object_path(object_path(raw)), raw);
}

}  // namespace
}  // namespace keel
