// Checks that a checkpoint holds every variable of a live object graph with the same shape and dtype,
// before anything is restored: restore() itself checks each value as it assigns it, which can leave
// a graph half restored when a later variable does not fit.
//
//   check_variables_match(ckpt.root(), "/tmp/backup/ckpt-7", "model/", "BackupAndRestore");
//   ckpt.restore("/tmp/backup/ckpt-7");   // nothing can fail on a shape any more
//
// Only live variables whose object path starts with `scope` are checked ("" for all). A variable
// missing from the checkpoint, or stored with another shape or dtype, is a keel::Error naming the
// object path, both shapes and the checkpoint; `what` starts the message.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "keel/checkpoint/trackable.h"

namespace keel {

class BundleReader;

// The stored object graph's variables: object path -> the bundle key of its VARIABLE_VALUE. Errors
// (no object graph, not a string scalar, a bad proto) name `what` and the checkpoint `prefix`.
std::map<std::string, std::string> stored_variable_keys(const BundleReader& reader, const std::string& prefix,
                                                        const std::string& what);

void check_variables_match(const std::shared_ptr<Trackable>& root, const std::string& prefix,
                           const std::string& scope, const std::string& what);

}  // namespace keel
