// keel-ckpt: look inside tensor bundles (TensorFlow checkpoints, SavedModel variables/, keel's own).
//
//   keel-ckpt ls PATH             key, dtype, shape, bytes of every entry
//   keel-ckpt show PATH KEY       the values (summarised when large)
//   keel-ckpt verify PATH         checks every tensor checksum (block checksums are checked on open)
//   keel-ckpt diff A B            keys and values that differ (exit status 1 when any do)
//   keel-ckpt graph PATH          the object graph (_CHECKPOINTABLE_OBJECT_GRAPH): nodes, edges, keys, slots
//
// PATH is a bundle prefix (PATH.index exists), a directory with a `checkpoint` state file (its
// model_checkpoint_path), or a SavedModel directory (PATH/variables/variables). A subcommand is one
// function plus one line in kCommands.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/object_graph.h"
#include "keel/checkpoint/object_path.h"

namespace fs = std::filesystem;
using namespace keel;

namespace {

std::string resolve_prefix(const std::string& path) {
  if (fs::exists(path + ".index")) return path;
  if (fs::is_directory(path)) {
    if (const auto state = read_checkpoint_state(path)) {
      KEEL_CHECK(!state->model_checkpoint_path.empty(), (fs::path(path) / kCheckpointStateFilename).string(),
                 ": no model_checkpoint_path in the checkpoint state file");
      return resolve_checkpoint_path(path, state->model_checkpoint_path);
    }
    const fs::path saved = fs::path(path) / "variables" / "variables";
    if (fs::exists(saved.string() + ".index")) return saved.string();
  }
  KEEL_FAIL(path, ": not a bundle prefix (no ", path, ".index), nor a directory with a checkpoint file or variables/");
}

std::string dtype_str(const BundleEntry& e) { return tf_dtype_name(e.tf_dtype); }

std::string escape(const std::string& s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; i++) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string values_str(const Tensor& t) {
  if (t.dtype() != DType::string) {
    if (t.dim() == 0) {
      std::ostringstream os;
      os << t.item_double();
      return os.str();
    }
    return t.to_string(6);
  }
  std::string out;
  const int64_t shown = std::min<int64_t>(t.numel(), 8);
  for (int64_t i = 0; i < shown; i++) out += (i ? "\n\"" : "\"") + escape(t.str(i), 160) + "\"";
  if (shown < t.numel()) out += "\n... (" + std::to_string(t.numel()) + " strings)";
  return out;
}

int cmd_ls(const std::vector<std::string>& args) {
  BundleReader r(resolve_prefix(args[0]));
  std::printf("# %s (%d shard%s)\n", r.prefix().c_str(), r.num_shards(), r.num_shards() == 1 ? "" : "s");
  for (const auto& [key, e] : r.entries()) {
    std::printf("%-70s %-8s %-14s %lld%s\n", key.c_str(), dtype_str(e).c_str(), shape_str(e.shape).c_str(),
                static_cast<long long>(e.size), e.sliced ? " (sliced)" : "");
  }
  return 0;
}

int cmd_show(const std::vector<std::string>& args) {
  BundleReader r(resolve_prefix(args[0]));
  const BundleEntry& e = r.entry(args[1]);
  std::printf("%s %s\n%s\n", dtype_str(e).c_str(), shape_str(e.shape).c_str(), values_str(r.read(args[1])).c_str());
  return 0;
}

int cmd_verify(const std::vector<std::string>& args) {
  BundleReader r(resolve_prefix(args[0]));
  int bad = 0, unchecked = 0;
  for (const auto& [key, e] : r.entries()) {
    try {
      if (!r.verify(key)) {
        std::printf("unchecked %s (%s%s)\n", key.c_str(), dtype_str(e).c_str(), e.sliced ? ", sliced" : "");
        unchecked++;
      }
    } catch (const Error& err) {
      std::printf("BAD %s\n", err.what());
      bad++;
    }
  }
  if (bad) {
    std::printf("%d of %zu checksums do not match\n", bad, r.entries().size());
    return 1;
  }
  std::printf("%s: all %zu checksums match\n", r.prefix().c_str(), r.entries().size() - unchecked);
  return 0;
}

int cmd_diff(const std::vector<std::string>& args) {
  BundleReader a(resolve_prefix(args[0])), b(resolve_prefix(args[1]));
  int differ = 0;
  for (const auto& [key, ea] : a.entries()) {
    if (!b.contains(key)) {
      std::printf("only in A: %s\n", key.c_str());
      differ++;
      continue;
    }
    const BundleEntry& eb = b.entry(key);
    if (ea.tf_dtype != eb.tf_dtype || ea.shape != eb.shape) {
      std::printf("%s: %s %s vs %s %s\n", key.c_str(), dtype_str(ea).c_str(), shape_str(ea.shape).c_str(),
                  dtype_str(eb).c_str(), shape_str(eb.shape).c_str());
      differ++;
      continue;
    }
    // Values keel cannot decode compare by size and checksum.
    const bool same = ea.dtype && !ea.sliced ? a.read(key).equal(b.read(key))
                                             : ea.size == eb.size && ea.masked_crc32c == eb.masked_crc32c;
    if (!same) {
      std::printf("%s: values differ\n", key.c_str());
      if (ea.dtype && !ea.sliced && ea.size <= 256)
        std::printf("  A: %s\n  B: %s\n", values_str(a.read(key)).c_str(), values_str(b.read(key)).c_str());
      differ++;
    }
  }
  for (const auto& [key, eb] : b.entries()) {
    if (!a.contains(key)) {
      std::printf("only in B: %s\n", key.c_str());
      differ++;
    }
  }
  std::printf("%d difference%s\n", differ, differ == 1 ? "" : "s");
  return differ ? 1 : 0;
}

int cmd_graph(const std::vector<std::string>& args) {
  BundleReader r(resolve_prefix(args[0]));
  KEEL_CHECK(r.contains(kObjectGraphKey), r.prefix(), ": no ", kObjectGraphKey,
             " (a name-based TF1 checkpoint has no object graph)");
  const Tensor t = r.read(kObjectGraphKey);
  KEEL_CHECK(t.dtype() == DType::string && t.numel() == 1, r.prefix(), ": ", kObjectGraphKey,
             " is not a string scalar");
  const auto g = parse_object_graph(t.str(0), r.prefix());
  std::printf("# %s: %d nodes\n%s", r.prefix().c_str(), g.nodes_size(), describe_object_graph(g).c_str());
  return 0;
}

struct Command {
  const char* name;
  const char* usage;
  size_t nargs;
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"ls", "ls PATH", 1, cmd_ls},
    {"show", "show PATH KEY", 2, cmd_show},
    {"verify", "verify PATH", 1, cmd_verify},
    {"diff", "diff A B", 2, cmd_diff},
    {"graph", "graph PATH", 1, cmd_graph},
};

int usage() {
  std::fprintf(stderr, "usage: keel-ckpt COMMAND ARGS\n");
  for (const Command& c : kCommands) std::fprintf(stderr, "  keel-ckpt %s\n", c.usage);
  std::fprintf(stderr, "PATH: a bundle prefix, a directory with a `checkpoint` file, or a SavedModel directory\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string name = argv[1];
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    std::vector<std::string> args(argv + 2, argv + argc);
    if (args.size() != c.nargs) return usage();
    try {
      return c.run(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "keel-ckpt %s: %s\n", c.name, e.what());
      return 1;
    }
  }
  return usage();
}
