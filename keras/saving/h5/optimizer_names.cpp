#include "keel/keras/saving/h5/optimizer_names.h"

#include <algorithm>
#include <optional>
#include <set>

#include "keel/graph/error.h"
#include "keel/keras/saving/h5/keras_h5.h"

namespace keel {
namespace {

using Kind = OptimizerWeightName::Kind;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    const size_t end = s.find('/', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string join(const std::vector<std::string>& c, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += (i == from ? "" : "/") + c[i];
  return out;
}

// The longest known variable that `path` ends with, aligned on components, leaving a non-empty prefix
// of at least `min_prefix` components; the prefix is returned through `prefix`.
std::optional<std::string> match_suffix(const std::string& path, const std::vector<std::string>& vars,
                                        size_t min_prefix, std::string* prefix) {
  std::optional<std::string> best;
  for (const std::string& v : vars) {
    if (v.empty() || path.size() <= v.size() + 1) continue;
    const size_t cut = path.size() - v.size();
    if (path.compare(cut, v.size(), v) != 0 || path[cut - 1] != '/') continue;
    const std::string pre = path.substr(0, cut - 1);
    if (split(pre).size() < min_prefix) continue;
    if (!best || v.size() > best->size()) best = v, *prefix = pre;
  }
  return best;
}

std::optional<OptimizerWeightName> parse_one(OptimizerNaming scheme, const std::string& stored,
                                             const std::vector<std::string>& vars) {
  const std::string bare = strip_weight_suffix(stored);
  const std::vector<std::string> c = split(bare);
  const size_t n = c.size();
  OptimizerWeightName out;
  out.stored = stored;
  if (scheme == OptimizerNaming::legacy && n >= 2 && c[n - 1] == "iter") {
    out.kind = Kind::iterations, out.optimizer = join(c, 0, n - 1);
    return out;
  }
  if (scheme == OptimizerNaming::v2 && n <= 2 && c[n - 1] == "iteration") {
    out.kind = Kind::iterations, out.optimizer = join(c, 0, n - 1);
    return out;
  }
  if (n < 3) {
    out.kind = Kind::other, out.optimizer = n == 2 ? c[0] : "";
    return out;
  }
  out.kind = Kind::slot;
  if (scheme == OptimizerNaming::legacy) {  // <optimizer>/<variable>/<slot>
    out.slot = c[n - 1];
    const std::string rest = join(c, 0, n - 1);
    if (vars.empty()) {
      out.optimizer = c[0], out.variable = join(c, 1, n - 1);
    } else if (auto v = match_suffix(rest, vars, 1, &out.optimizer)) {
      out.variable = *v;
    } else {
      return std::nullopt;
    }
  } else {  // <optimizer>/<slot>/<variable>
    std::string prefix;
    if (vars.empty()) {
      out.optimizer = c[0], out.slot = c[1], out.variable = join(c, 2, n);
    } else if (auto v = match_suffix(bare, vars, 2, &prefix)) {
      const std::vector<std::string> p = split(prefix);
      out.variable = *v, out.slot = p.back(), out.optimizer = join(p, 0, p.size() - 1);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Parses every name; on the first that does not fit, returns nullopt and that name in `bad`.
std::optional<std::vector<OptimizerWeightName>> parse_all(OptimizerNaming scheme,
                                                          const std::vector<std::string>& stored,
                                                          const std::vector<std::string>& vars, std::string* bad) {
  std::vector<OptimizerWeightName> out;
  for (const std::string& s : stored) {
    auto p = parse_one(scheme, s, vars);
    if (!p) {
      *bad = s;
      return std::nullopt;
    }
    out.push_back(std::move(*p));
  }
  return out;
}

const char* scheme_name(OptimizerNaming s) { return s == OptimizerNaming::legacy ? "legacy" : "v2"; }

}  // namespace

ParsedOptimizerNames parse_optimizer_weight_names(const std::vector<std::string>& stored,
                                                  const std::vector<std::string>& variable_paths) {
  bool legacy_iter = false, v2_iter = false;
  int legacy_slots = 0, v2_slots = 0;
  static const std::set<std::string> kLegacySlots = {"m", "v", "vhat", "momentum", "rms", "mg", "accumulator",
                                                     "accum_grad", "accum_var", "linear", "u"};
  static const std::set<std::string> kV2Slots = {"m", "v", "vhat", "velocity", "momentum", "average_gradient",
                                                 "accumulator", "accumulated_grad", "accumulated_delta_var",
                                                 "linear", "u"};
  for (const std::string& s : stored) {
    const std::vector<std::string> c = split(strip_weight_suffix(s));
    legacy_iter |= c.size() >= 2 && c.back() == "iter";
    v2_iter |= c.size() <= 2 && c.back() == "iteration";
    if (c.size() >= 3) legacy_slots += kLegacySlots.count(c.back()) ? 1 : 0;
    if (c.size() >= 3) v2_slots += kV2Slots.count(c[1]) ? 1 : 0;
  }
  std::vector<OptimizerNaming> candidates;
  if (legacy_iter != v2_iter) {
    candidates = {legacy_iter ? OptimizerNaming::legacy : OptimizerNaming::v2};
  } else if (!variable_paths.empty()) {
    candidates = {OptimizerNaming::v2, OptimizerNaming::legacy};
  } else if (legacy_slots != v2_slots) {
    candidates = {legacy_slots > v2_slots ? OptimizerNaming::legacy : OptimizerNaming::v2};
  } else if (!stored.empty()) {
    KEEL_FAIL("optimizer weight names: cannot tell the naming scheme of '", stored.front(), "' and ",
              stored.size() - 1, " more (no iterations counter, no known slot names)");
  } else {
    return {};
  }
  std::string first_bad;
  for (OptimizerNaming scheme : candidates) {
    std::string bad;
    if (auto names = parse_all(scheme, stored, variable_paths, &bad)) {
      ParsedOptimizerNames out;
      out.scheme = scheme;
      out.names = std::move(*names);
      for (const OptimizerWeightName& n : out.names) {
        if (n.kind == Kind::slot && out.optimizer.empty()) out.optimizer = n.optimizer;
      }
      return out;
    }
    if (first_bad.empty()) first_bad = bad;
  }
  KEEL_FAIL("optimizer weight names: '", first_bad, "' names no variable of the model (", scheme_name(candidates[0]),
            candidates.size() > 1 ? " and legacy" : "", " naming tried; ", variable_paths.size(), " variables)");
}

std::string format_optimizer_weight_name(OptimizerNaming scheme, const OptimizerWeightName& name) {
  switch (name.kind) {
    case Kind::iterations:
      if (scheme == OptimizerNaming::v2) return "iteration:0";
      KEEL_CHECK(!name.optimizer.empty(), "optimizer weight names: the legacy iterations name needs an optimizer");
      return name.optimizer + "/iter:0";
    case Kind::slot:
      KEEL_CHECK(!name.optimizer.empty() && !name.variable.empty() && !name.slot.empty(),
                 "optimizer weight names: a slot needs optimizer, variable and slot names (got '", name.optimizer,
                 "', '", name.variable, "', '", name.slot, "')");
      return scheme == OptimizerNaming::legacy ? name.optimizer + "/" + name.variable + "/" + name.slot + ":0"
                                               : name.optimizer + "/" + name.slot + "/" + name.variable + ":0";
    case Kind::other: break;
  }
  KEEL_FAIL("optimizer weight names: cannot format '", name.stored, "' (neither iterations nor a slot)");
}

std::vector<OptimizerWeightName> keras_optimizer_weight_order(OptimizerNaming scheme, const std::string& optimizer,
                                                              const std::vector<std::string>& variables,
                                                              const std::vector<std::string>& slots) {
  std::vector<OptimizerWeightName> out;
  OptimizerWeightName it;
  it.kind = Kind::iterations, it.optimizer = scheme == OptimizerNaming::legacy ? optimizer : "";
  out.push_back(it);
  auto slot = [&](const std::string& var, const std::string& s) {
    OptimizerWeightName n;
    n.kind = Kind::slot, n.optimizer = optimizer, n.variable = var, n.slot = s;
    n.stored = format_optimizer_weight_name(scheme, n);
    out.push_back(n);
  };
  if (scheme == OptimizerNaming::legacy) {
    for (const std::string& s : slots) for (const std::string& v : variables) slot(v, s);
  } else {
    for (const std::string& v : variables) for (const std::string& s : slots) slot(v, s);
  }
  out.front().stored = format_optimizer_weight_name(scheme, out.front());
  return out;
}

}  // namespace keel
