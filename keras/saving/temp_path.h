// Temporaries of crash-safe saves: `<target>.keel-tmp-<pid>-<n>` beside the target, and the cleanup
// of the ones a killed save left behind.
//
//   const std::string tmp = temp_sibling("/run/m.h5");    // "/run/m.h5.keel-tmp-4242-0"
//   remove_stale_temporaries("/run/m.h5");                  // before the next save to the same place
//
// A temporary is stale when its pid is not a running process (no /proc/<pid>) — the save that made it
// died. Temporaries of this process and of live processes (a concurrent save) are left alone, as is
// anything whose name does not parse exactly as `<basename>.keel-tmp-<digits>-<digits>`.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace keel::keras {

std::string temp_sibling(const std::string& target);
// Removes (recursively: a directory save's temporary is a tree) the stale temporaries of `target`;
// returns their paths. Errors while removing one are ignored (the next save tries again). With
// `salvage`, each stale temporary is first handed to it (to move back what is not the save's own), and
// is kept when it returns false.
std::vector<std::string> remove_stale_temporaries(
    const std::string& target, const std::function<bool(const std::string& stale)>& salvage = nullptr);

}  // namespace keel::keras
