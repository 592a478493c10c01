// A bound on how deeply JSON text nests, checked before parsing it.
//
//   keras::check_json_depth(text, "model_from_json");   // throws keel::Error past kMaxJsonDepth levels
//   auto j = Json::parse(text);
//
// nlohmann::json parses deep text without recursion, but copying, dumping and comparing a value recurse
// once per level: a config of 200,000 nested brackets (a few hundred kB) overflows the stack when a layer
// factory copies it or an error message dumps it. Keras writes configs a few dozen levels deep.
#pragma once

#include <cstddef>
#include <string>

namespace keel::keras {

inline constexpr size_t kMaxJsonDepth = 512;

// Throws keel::Error naming `what` and the byte offset when arrays and objects nest deeper than
// kMaxJsonDepth; brackets inside strings do not count. Says nothing about whether the text is valid JSON.
void check_json_depth(const std::string& text, const std::string& what);

}  // namespace keel::keras
