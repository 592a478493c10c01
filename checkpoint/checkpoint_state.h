// The `checkpoint` state file beside checkpoints: TensorFlow's CheckpointState in protobuf text
// format, the way tf.train.CheckpointManager writes it (paths relative to the directory).
//
//   auto latest = latest_checkpoint("/tmp/run");     // "/tmp/run/ckpt-19" or nullopt
//   CheckpointStateFile s;  s.model_checkpoint_path = "ckpt-3"; ...
//   write_checkpoint_state("/tmp/run", s);           // temp file + fsync + rename + fsync(dir)
//
// A state file that exists but does not parse is a keel::Error naming the file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace keel {

struct CheckpointStateFile {
  std::string model_checkpoint_path;                 // as stored (relative to the directory or absolute)
  std::vector<std::string> all_model_checkpoint_paths;  // oldest first
  std::vector<double> all_model_checkpoint_timestamps;
  double last_preserved_timestamp = 0;
};

inline constexpr const char* kCheckpointStateFilename = "checkpoint";

// Parses / prints the text format. Doubles print as Python's repr does (shortest round trip, "1.0"),
// so a file written by keel reads like one written by TF. `file` names the source in errors.
CheckpointStateFile parse_checkpoint_state(const std::string& text, const std::string& file);
std::string checkpoint_state_to_text(const CheckpointStateFile& s);

// nullopt when `<dir>/checkpoint` does not exist; an error when it does not parse or has no
// model_checkpoint_path (as TF's get_checkpoint_state).
// `latest_filename` is TF's argument of that name (a tf.compat.v1 Saver's custom state file name).
std::optional<CheckpointStateFile> read_checkpoint_state(const std::string& dir,
                                                         const std::string& latest_filename = kCheckpointStateFilename);
// Atomic replacement of `<dir>/checkpoint`. `hook`, when set, is called with a stage name between
// the steps ("state_temp_written", "state_renamed"), for crash tests.
void write_checkpoint_state(const std::string& dir, const CheckpointStateFile& s,
                            const std::function<void(const char*)>& hook = {});

// `path` joined to `dir` unless absolute.
std::string resolve_checkpoint_path(const std::string& dir, const std::string& path);
// True when PREFIX.index (TF2) or PREFIX (TF1) exists.
bool checkpoint_exists(const std::string& prefix);
// model_checkpoint_path of `<dir>/checkpoint` if it exists on disk, else nullopt (also when the
// state file is missing). Dangling older entries are ignored.
std::optional<std::string> latest_checkpoint(const std::string& dir,
                                             const std::string& latest_filename = kCheckpointStateFilename);

// Writes `contents` to `path` via a temporary file in the same directory: write, fsync, rename,
// fsync the directory. The temporary is removed on failure.
void atomic_write_file(const std::string& path, const std::string& contents,
                       const std::function<void(const char*)>& hook = {});
// fsync of a directory (after a rename or unlink in it).
void fsync_directory(const std::string& dir);

}  // namespace keel
