// Temporary siblings of saved files and directories, and the stale ones of dead writers.
#include "keel/keras/saving/temp_path.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>

namespace keel::keras {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMarker = ".keel-tmp-";

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string temp_sibling(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  return target + kMarker + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

std::vector<std::string> remove_stale_temporaries(const std::string& target,
                                                  const std::function<bool(const std::string&)>& salvage) {
  std::vector<std::string> removed;
  const fs::path t(target);
  const std::string base = t.filename().string();
  if (base.empty()) return removed;
  const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  const std::string prefix = base + kMarker;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return removed;
  std::vector<fs::path> stale;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // "<pid>-<n>"
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || !all_digits(rest.substr(0, dash)) || !all_digits(rest.substr(dash + 1))) continue;
    const std::string pid = rest.substr(0, dash);
    if (std::stoll(pid) == static_cast<long long>(::getpid())) continue;
    std::error_code alive;
    if (fs::exists(fs::path("/proc") / pid, alive) || alive) continue;
    stale.push_back(it->path());
  }
  for (const auto& p : stale) {
    if (salvage && !salvage(p.string())) continue;
    std::error_code rm;
    fs::remove_all(p, rm);
    if (!rm) removed.push_back(p.string());
  }
  return removed;
}

}  // namespace keel::keras
