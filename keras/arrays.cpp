#include "keel/keras/arrays.h"

#include <algorithm>

#include "keel/graph/error.h"

namespace keel::keras {

namespace {
std::string count_of(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}
std::vector<std::string> keys_of(const std::map<std::string, Tensor>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}
}  // namespace

std::string quoted_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

Arrays::Arrays(Tensor one) : kind_(Kind::one), list_{std::move(one)} {}
Arrays::Arrays(std::vector<Tensor> list) : kind_(Kind::list), list_(std::move(list)) {}
Arrays::Arrays(std::initializer_list<Tensor> list) : kind_(Kind::list), list_(list) {}

Arrays Arrays::by_name(std::map<std::string, Tensor> arrays) {
  Arrays a;
  a.kind_ = Kind::map;
  a.map_ = std::move(arrays);
  return a;
}

std::string Arrays::describe() const {
  switch (kind_) {
    case Kind::none: return "no arrays";
    case Kind::one: return "one array";
    case Kind::list: return count_of(list_.size(), "array");
    case Kind::map: return "arrays for " + (map_.empty() ? std::string("no names") : quoted_names(keys_of(map_)));
  }
  return "";
}

std::vector<Tensor> Arrays::in_order(const std::vector<std::string>& names, const std::string& what,
                                     const char* arg, const char* role, const std::vector<bool>& optional) const {
  KEEL_CHECK(kind_ != Kind::none, what, ": no ", arg, " given");
  const std::string model_has =
      names.empty() ? std::string("the model takes one ") + role
                    : "the model has " + count_of(names.size(), role) + " (" + quoted_names(names) + ")";
  if (kind_ == Kind::map) {
    KEEL_CHECK(!names.empty(), what, ": ", arg, " is given by name (", quoted_names(keys_of(map_)),
               "), but the model does not name its ", role, "s; pass one array");
    for (const auto& [key, value] : map_) {
      (void)value;
      KEEL_CHECK(std::find(names.begin(), names.end(), key) != names.end(), what, ": ", arg,
                 " has an array for '", key, "', which is not an ", role, " of the model (", model_has, ")");
    }
    std::vector<Tensor> out;
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = map_.find(names[i]);
      if (it == map_.end() && i < optional.size() && optional[i]) {
        out.emplace_back();
        continue;
      }
      KEEL_CHECK(it != map_.end(), what, ": ", arg, " has no array for ", role, " '", names[i], "' (", arg, " has ",
                 describe(), "; ", model_has, ")");
      out.push_back(it->second);
    }
    return out;
  }
  const size_t wanted = std::max<size_t>(names.size(), 1);
  KEEL_CHECK(list_.size() == wanted, what, ": ", arg, " has ", describe(), ", but ", model_has,
             kind_ == Kind::one ? "; pass a list in that order, or arrays by name" : "");
  return list_;
}

std::vector<Tensor> Arrays::broadcast_in_order(const std::vector<std::string>& names, const std::string& what,
                                               const char* arg, const char* role) const {
  const size_t wanted = std::max<size_t>(names.size(), 1);
  switch (kind_) {
    case Kind::none: return {};
    case Kind::one: return std::vector<Tensor>(wanted, list_[0]);
    case Kind::list: return in_order(names, what, arg, role);
    case Kind::map: break;
  }
  return in_order(names, what, arg, role, std::vector<bool>(names.size(), true));  // names may be left out
}

void check_same_samples(const std::vector<LabelledArray>& arrays, const std::string& what) {
  const LabelledArray* first = nullptr;
  for (const auto& a : arrays) {
    KEEL_CHECK(a.array.defined(), what, ": the array for ", a.label, " is undefined");
    KEEL_CHECK(a.array.dim() >= 1, what, ": the array for ", a.label, " ", shape_str(a.array.shape()),
               " has no batch axis");
    if (!first) {
      first = &a;
      continue;
    }
    KEEL_CHECK(a.array.size(0) == first->array.size(0), what, ": ", first->label, " has ", first->array.size(0),
               " samples but ", a.label, " has ", a.array.size(0),
               "; all arrays must have the same number of samples (first axis)");
  }
}

}  // namespace keel::keras
