#include "keel/checkpoint/object_path.h"

namespace keel {

std::string escape_local_name(const std::string& name) {
  std::string out;
  out.reserve(name.size() + 4);
  for (char c : name) {
    if (c == '.') {
      out += "..";
    } else if (c == '/') {
      out += ".S";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_local_name(const std::string& escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '/') return std::nullopt;
    if (c != '.') {
      out += c;
      continue;
    }
    if (i + 1 == escaped.size()) return std::nullopt;
    const char next = escaped[++i];
    if (next == '.') {
      out += '.';
    } else if (next == 'S') {
      out += '/';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string object_path(const std::vector<std::string>& local_names) {
  std::string out;
  for (const auto& name : local_names) out = child_path(out, name);
  return out;
}

std::string child_path(const std::string& parent_path, const std::string& local_name) {
  if (parent_path.empty()) return escape_local_name(local_name);
  return parent_path + "/" + escape_local_name(local_name);
}

std::string attribute_key(const std::string& object_path, const std::string& attribute_name) {
  return object_path + "/" + kAttributesSegment + "/" + escape_local_name(attribute_name);
}

std::string variable_key(const std::string& object_path) {
  return attribute_key(object_path, kVariableValueName);
}

std::string slot_path(const std::string& variable_path, const std::string& optimizer_path,
                      const std::string& slot_name) {
  return variable_path + "/" + kOptimizerSlotSegment + "/" + optimizer_path + "/" +
         escape_local_name(slot_name);
}

std::string slot_key(const std::string& variable_path, const std::string& optimizer_path,
                     const std::string& slot_name) {
  return variable_key(slot_path(variable_path, optimizer_path, slot_name));
}

std::optional<AttributeKeyParts> split_attribute_key(const std::string& key) {
  const std::string marker = std::string("/") + kAttributesSegment + "/";
  // An escaped local name never contains "/.A" (a '.' inside a name is doubled), so the first
  // occurrence of the marker is the separator.
  const size_t pos = key.find(marker);
  if (pos == std::string::npos) return std::nullopt;
  auto attr = unescape_local_name(key.substr(pos + marker.size()));
  if (!attr) return std::nullopt;
  return AttributeKeyParts{key.substr(0, pos), *attr};
}

std::optional<std::vector<std::string>> split_object_path(const std::string& path) {
  std::vector<std::string> names;
  if (path.empty()) return names;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    auto name = unescape_local_name(path.substr(start, slash == std::string::npos ? std::string::npos
                                                                                  : slash - start));
    if (!name) return std::nullopt;
    names.push_back(*name);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return names;
}

}  // namespace keel
