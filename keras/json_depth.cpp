#include "keel/keras/json_depth.h"

#include "keel/graph/error.h"

namespace keel::keras {

void check_json_depth(const std::string& text, const std::string& what) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      KEEL_CHECK(++depth <= kMaxJsonDepth, what, ": JSON nests deeper than ", kMaxJsonDepth,
                 " levels (at byte ", i, ")");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace keel::keras
