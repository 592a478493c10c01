// Checkpoint key naming: the one family of pure functions every key comes from. Same scheme as
// TensorFlow's trackable_utils.py, so keel and TF name the same object the same way.
//
//   escape_local_name("a.b/c")                        == "a..b.Sc"
//   child_path("", "net") == "net";  child_path("net", "layer_with_weights-0") == "net/layer_with_weights-0"
//   variable_key("net/dense/kernel")                  == "net/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE"
//   slot_key("dense/kernel", "optimizer", "m")
//       == "dense/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"
//
// Paths passed in are already escaped (they come from child_path / object_path); local names and
// attribute and slot names are raw and get escaped here.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace keel {

inline constexpr const char* kObjectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH";
inline constexpr const char* kVariableValueName = "VARIABLE_VALUE";
inline constexpr const char* kStateAttributeName = "KEEL_STATE";  // non-tensor state (optional_restore)
inline constexpr const char* kAttributesSegment = ".ATTRIBUTES";
inline constexpr const char* kOptimizerSlotSegment = ".OPTIMIZER_SLOT";

// "." -> "..", "/" -> ".S" (in that order, as TF does).
std::string escape_local_name(const std::string& name);
// Inverse of escape_local_name; nullopt for a string escape_local_name cannot produce (".x", trailing ".").
std::optional<std::string> unescape_local_name(const std::string& escaped);
// Escaped local names from the root joined by "/"; the root itself is "".
std::string object_path(const std::vector<std::string>& local_names);
// Path of the child `local_name` of the object at `parent_path` ("" for the root).
std::string child_path(const std::string& parent_path, const std::string& local_name);
// `<object_path>/.ATTRIBUTES/<escaped attribute>`.
std::string attribute_key(const std::string& object_path, const std::string& attribute_name);
// attribute_key(object_path, "VARIABLE_VALUE").
std::string variable_key(const std::string& object_path);
// Object path of a slot: `<variable_path>/.OPTIMIZER_SLOT/<optimizer_path>/<escaped slot_name>`.
std::string slot_path(const std::string& variable_path, const std::string& optimizer_path,
                      const std::string& slot_name);
// variable_key(slot_path(...)).
std::string slot_key(const std::string& variable_path, const std::string& optimizer_path,
                     const std::string& slot_name);

// Splits an attribute key into (object path, raw attribute name); nullopt if `key` has no
// "/.ATTRIBUTES/" segment or the attribute name is not a valid escaped name.
struct AttributeKeyParts {
  std::string object_path;
  std::string attribute_name;
};
std::optional<AttributeKeyParts> split_attribute_key(const std::string& key);
// The raw local names of an escaped object path ("" -> {}); nullopt when malformed.
std::optional<std::vector<std::string>> split_object_path(const std::string& path);

}  // namespace keel
