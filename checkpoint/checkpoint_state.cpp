#include "keel/checkpoint/checkpoint_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "keel/checkpoint/proto/checkpoint_state.pb.h"
#include "keel/graph/error.h"

namespace keel {
namespace {

constexpr size_t kMaxStateFileBytes = 16u << 20;

// Python's repr(float): the shortest digits that read back exactly; positional for decimal exponents
// -4..15 (with ".0" on integers), otherwise d.ddde+XX.
std::string python_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[400];
  int digits = 17;
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (std::strtod(buf, nullptr) == v) {
      digits = p;
      break;
    }
  }
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  const int exponent = std::atoi(std::strchr(buf, 'e') + 1);
  if (exponent < -4 || exponent >= 16) return buf;
  std::snprintf(buf, sizeof buf, "%.*f", std::max(digits - 1 - exponent, 0), v);
  std::string s = buf;
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

class PythonDoublePrinter : public google::protobuf::TextFormat::FastFieldValuePrinter {
 public:
  void PrintDouble(double v, google::protobuf::TextFormat::BaseTextGenerator* out) const override {
    out->PrintString(python_repr(v));
  }
};

std::string errno_text() { return std::strerror(errno); }

// Keeps TextFormat's first complaint (line, column, what) for the error instead of its log.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (text.empty()) text = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  std::string text;
};

}  // namespace

CheckpointStateFile parse_checkpoint_state(const std::string& text, const std::string& file) {
  KEEL_CHECK(text.size() <= kMaxStateFileBytes, "checkpoint state file '", file, "' is ", text.size(),
             " bytes, more than the 16 MiB keel accepts");
  tf::CheckpointState proto;
  google::protobuf::TextFormat::Parser parser;
  FirstError err;
  parser.RecordErrorsTo(&err);
  KEEL_CHECK(parser.ParseFromString(text, &proto), "checkpoint state file '", file,
             "' is not a valid CheckpointState text proto (", err.text.empty() ? "parse error" : err.text, ")");
  CheckpointStateFile s;
  s.model_checkpoint_path = proto.model_checkpoint_path();
  s.all_model_checkpoint_paths.assign(proto.all_model_checkpoint_paths().begin(),
                                      proto.all_model_checkpoint_paths().end());
  s.all_model_checkpoint_timestamps.assign(proto.all_model_checkpoint_timestamps().begin(),
                                           proto.all_model_checkpoint_timestamps().end());
  s.last_preserved_timestamp = proto.last_preserved_timestamp();
  return s;
}

std::string checkpoint_state_to_text(const CheckpointStateFile& s) {
  tf::CheckpointState proto;
  proto.set_model_checkpoint_path(s.model_checkpoint_path);
  for (const auto& p : s.all_model_checkpoint_paths) proto.add_all_model_checkpoint_paths(p);
  for (double t : s.all_model_checkpoint_timestamps) proto.add_all_model_checkpoint_timestamps(t);
  proto.set_last_preserved_timestamp(s.last_preserved_timestamp);
  google::protobuf::TextFormat::Printer printer;
  printer.SetDefaultFieldValuePrinter(new PythonDoublePrinter());
  std::string out;
  KEEL_CHECK(printer.PrintToString(proto, &out), "checkpoint state: cannot print the text proto");
  return out;
}

std::optional<CheckpointStateFile> read_checkpoint_state(const std::string& dir, const std::string& latest_filename) {
  KEEL_CHECK(!latest_filename.empty(), "checkpoint state in '", dir, "': empty latest_filename");
  const std::string file = dir + "/" + latest_filename;
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) {
    KEEL_CHECK(errno == ENOENT, "checkpoint state file '", file, "': ", errno_text());
    return std::nullopt;
  }
  KEEL_CHECK(S_ISREG(st.st_mode), "checkpoint state file '", file, "' is not a regular file");
  std::ifstream in(file, std::ios::binary);
  KEEL_CHECK(in.good(), "checkpoint state file '", file, "': cannot open");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    KEEL_CHECK(text.size() <= kMaxStateFileBytes, "checkpoint state file '", file,
               "' is more than the 16 MiB keel accepts");
  }
  KEEL_CHECK(!in.bad(), "checkpoint state file '", file, "': read error");
  CheckpointStateFile s = parse_checkpoint_state(text, file);
  // As TF's get_checkpoint_state ("Invalid checkpoint state loaded from ..."): never read as "no checkpoint".
  KEEL_CHECK(!s.model_checkpoint_path.empty(), "checkpoint state file '", file,
             "' has no model_checkpoint_path (", s.all_model_checkpoint_paths.size(),
             " all_model_checkpoint_paths); TensorFlow refuses it as an invalid checkpoint state too");
  return s;
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  KEEL_CHECK(fd >= 0, "fsync directory '", dir, "': ", errno_text());
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  KEEL_CHECK(rc == 0, "fsync directory '", dir, "': ", std::strerror(err));
}

void atomic_write_file(const std::string& path, const std::string& contents,
                       const std::function<void(const char*)>& hook) {
  std::random_device rd;
  const std::string tmp = path + ".tmp" + std::to_string((uint64_t{rd()} << 32) | rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  KEEL_CHECK(fd >= 0, "write '", path, "': cannot create temporary '", tmp, "': ", errno_text());
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string err = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      KEEL_FAIL("write '", tmp, "': ", err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string err = errno_text();
    ::unlink(tmp.c_str());
    KEEL_FAIL("fsync '", tmp, "': ", err);
  }
  if (hook) hook("state_temp_written");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = errno_text();
    ::unlink(tmp.c_str());
    KEEL_FAIL("rename '", tmp, "' to '", path, "': ", err);
  }
  if (hook) hook("state_renamed");
  const size_t slash = path.rfind('/');
  fsync_directory(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
}

void write_checkpoint_state(const std::string& dir, const CheckpointStateFile& s,
                            const std::function<void(const char*)>& hook) {
  atomic_write_file(dir + "/" + kCheckpointStateFilename, checkpoint_state_to_text(s), hook);
}

std::string resolve_checkpoint_path(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

bool checkpoint_exists(const std::string& prefix) {
  struct stat st;
  return ::stat((prefix + ".index").c_str(), &st) == 0 || ::stat(prefix.c_str(), &st) == 0;
}

std::optional<std::string> latest_checkpoint(const std::string& dir, const std::string& latest_filename) {
  auto state = read_checkpoint_state(dir, latest_filename);
  if (!state || state->model_checkpoint_path.empty()) return std::nullopt;
  const std::string prefix = resolve_checkpoint_path(dir, state->model_checkpoint_path);
  if (!checkpoint_exists(prefix)) {
    // TF logs "Couldn't match files for checkpoint P" here; a silent nullopt reads as "start afresh".
    std::cerr << "keel: warning: latest_checkpoint: checkpoint state file '" << dir << "/" << latest_filename
              << "' names '" << prefix << "', which does not exist (no " << prefix << ".index)\n";
    return std::nullopt;
  }
  return prefix;
}

}  // namespace keel
