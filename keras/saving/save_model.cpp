// save_model / load_model: Keras HDF5 full-model files and SavedModel-style directories.
#include "keel/keras/saving/save_model.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "keel/checkpoint/bundle.h"
#include "keel/checkpoint/checkpoint_state.h"
#include "keel/checkpoint/object_path.h"
#include "keel/graph/error.h"
#include "keel/keras/json_depth.h"
#include "keel/keras/layers/weight_budget.h"
#include "keel/keras/saving/h5/keras_h5.h"
#include "keel/keras/saving/object_states.h"
#include "keel/keras/saving/optimizer_weights.h"
#include "keel/keras/saving/temp_path.h"
#include "keel/keras/saving/training_config.h"
#include "keel/keras/saving/weights.h"

namespace keel::keras {
namespace fs = std::filesystem;
namespace {

// ---- protobuf wire format (length-delimited fields only)
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_bytes(std::string& out, int field, const std::string& s) {
  if (s.empty()) return;  // proto3 default
  put_varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  put_varint(out, s.size());
  out += s;
}

struct WireReader {
  const std::string& b;
  size_t pos;
  const std::string& file;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      KEEL_CHECK(pos < b.size(), "load_model: ", file, " is truncated (varint at byte ", pos, ")");
      const auto c = static_cast<uint8_t>(b[pos++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return v;
    }
    throw Error("load_model: " + file + ": varint longer than 10 bytes at byte " + std::to_string(pos));
  }
  std::string bytes() {
    const uint64_t n = varint();
    KEEL_CHECK(n <= b.size() - pos, "load_model: ", file, ": field of ", n, " bytes at byte ", pos, " exceeds the ",
               b.size(), "-byte file");
    std::string s = b.substr(pos, n);
    pos += n;
    return s;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); return;
      case 1: KEEL_CHECK(b.size() - pos >= 8, "load_model: ", file, " is truncated"); pos += 8; return;
      case 2: bytes(); return;
      case 5: KEEL_CHECK(b.size() - pos >= 4, "load_model: ", file, " is truncated"); pos += 4; return;
      default: throw Error("load_model: " + file + ": unsupported wire type " + std::to_string(wire_type));
    }
  }
};

std::string read_file_bounded(const std::string& path, uintmax_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  KEEL_CHECK(!ec, "load_model: cannot read ", path, ": ", ec.message());
  KEEL_CHECK(size <= limit, "load_model: ", path, " has ", size, " bytes, more than the ", limit, " allowed");
  std::ifstream in(path, std::ios::binary);
  std::string s(size, '\0');
  in.read(s.data(), static_cast<std::streamsize>(size));
  KEEL_CHECK(in.gcount() == static_cast<std::streamsize>(size), "load_model: short read of ", path);
  return s;
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  KEEL_CHECK(fd >= 0, "save_model: cannot open ", path, " to fsync: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  KEEL_CHECK(rc == 0, "save_model: fsync of ", path, " failed: ", std::strerror(err));
}

void write_directory(const Model& model, const std::string& dir) {
  fs::create_directories(dir + "/variables");
  fs::create_directories(dir + "/assets");
  const std::string prefix = dir + "/variables/variables";
  write_model_checkpoint(model, prefix);
  SavedModelProto m;
  m.model_config = model.to_json();
  if (model.compiled()) m.training_config = python_json_dumps(training_config(model));
  {
    BundleReader r(prefix);
    m.object_graph = r.read(kObjectGraphKey).data<std::string>()[0];
  }
  atomic_write_file(dir + "/" + kSavedModelFilename, serialize_saved_model(m));
  fsync_path(dir + "/variables");
  fsync_path(dir + "/assets");
  fsync_path(dir);
}

// save_model replaces a model directory as a whole (swapping in a new directory is the crash-safe way to
// change several files at once), but the directory may hold more than the model: ModelCheckpoint's
// checkpoints, the user's notes. Those entries are not the model's and move from the retired directory
// into the new one, as TensorFlow leaves them in place.
bool is_model_entry(const std::string& name) {
  return name == kSavedModelFilename || name == "variables" || name == "assets";
}

// Moves every entry of `from` that is not the model's into `to` (which must be a directory without that
// name) and makes the moves durable; returns false when one stays behind in `from`.
bool move_user_entries(const std::string& from, const std::string& to) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_model_entry(name)) names.push_back(name);
  }
  if (ec) return false;
  if (names.empty()) return true;
  if (!fs::is_directory(to, ec)) return false;
  bool all = true;
  for (const auto& name : names) {
    const std::string dst = to + "/" + name;
    std::error_code there;
    if (fs::symlink_status(dst, there).type() != fs::file_type::not_found ||
        ::rename((from + "/" + name).c_str(), dst.c_str()) != 0)
      all = false;
  }
  fsync_path(to);
  fsync_path(from);
  return all;
}

std::string parent_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : ".";
}

// Rebuilds the model of a file's model_config. Errors name the file. Every weight of the model is stored
// in the file, so twice the bytes that hold them (room for narrower stored dtypes) bound what the config
// may allocate: a hostile config asking for a huge layer fails before allocating.
std::shared_ptr<Model> model_from_file_config(const std::string& config, const std::string& file,
                                              const std::string& weights_in, uintmax_t weight_bytes) {
  try {
    const auto budget = static_cast<int64_t>(std::min<uintmax_t>(2 * weight_bytes + (1 << 20), INT64_MAX / 2));
    WeightBudget guard(budget, "twice the " + std::to_string(weight_bytes) + " bytes of weights in " + weights_in +
                                   " and 1 MiB allow");
    return model_from_json(config);
  } catch (const Error& e) {
    KEEL_FAIL("load_model: ", file, ": model_config: ", e.what());
  } catch (const nlohmann::json::exception& e) {
    KEEL_FAIL("load_model: ", file, ": model_config: ", e.what());
  } catch (const std::bad_alloc&) {
    KEEL_FAIL("load_model: ", file, ": model_config: the model it describes does not fit in memory");
  }
}

uintmax_t bundle_data_bytes(const std::string& prefix) {
  const fs::path p(prefix);
  const std::string stem = p.filename().string() + ".data-";
  uintmax_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(p.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(stem, 0) == 0 && it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace

std::string serialize_saved_model(const SavedModelProto& m) {
  std::string out;
  put_bytes(out, 1, m.format);
  put_bytes(out, 2, m.keras_version);
  put_bytes(out, 3, m.backend);
  put_bytes(out, 4, m.model_config);
  put_bytes(out, 5, m.object_graph);
  put_bytes(out, 6, m.training_config);
  return out;
}

SavedModelProto parse_saved_model(const std::string& bytes, const std::string& file) {
  SavedModelProto m;
  m.format.clear();
  m.keras_version.clear();
  m.backend.clear();
  WireReader r{bytes, 0, file};
  while (r.pos < bytes.size()) {
    const uint64_t tag = r.varint();
    const int field = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire == 2 && field >= 1 && field <= 6) {
      std::string s = r.bytes();
      switch (field) {
        case 1: m.format = std::move(s); break;
        case 2: m.keras_version = std::move(s); break;
        case 3: m.backend = std::move(s); break;
        case 4: m.model_config = std::move(s); break;
        case 5: m.object_graph = std::move(s); break;
        default: m.training_config = std::move(s); break;
      }
    } else {
      r.skip(wire);
    }
  }
  KEEL_CHECK(m.format == kSavedModelFormat, "load_model: ", file, " is not a keel Keras SavedModel (format marker '",
             m.format, "', expected '", kSavedModelFormat, "')");
  KEEL_CHECK(!m.model_config.empty(), "load_model: ", file, " has no model config");
  return m;
}

void save_model(const Model& model, const std::string& path, const std::function<void(const char*)>& hook) {
  KEEL_CHECK(!path.empty(), "save_model: empty path");
  if (is_h5_path(path)) {
    KerasH5File f;
    f.model_config = model.to_json();
    f.layers = model_h5_layers(model);
    if (model.compiled()) {
      f.training_config = python_json_dumps(training_config(model));
      f.optimizer_weights = optimizer_h5_weights(model);
    }
    f.keel_state = model_object_states(model);
    write_keras_h5_model(path, f);  // stale temporaries removed, temp file, fsync, rename, fsync dir
    return;
  }
  std::string target = path;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  KEEL_CHECK(!fs::exists(target) || fs::is_directory(target), "save_model: ", target,
             " exists and is not a directory");
  fs::create_directories(parent_of(target));
  // A save killed between the swap and moving the user's entries back left them in its temporary.
  remove_stale_temporaries(target, [&](const std::string& stale) { return move_user_entries(stale, target); });
  const std::string tmp = temp_sibling(target);
  try {
    write_directory(model, tmp);
    if (hook) hook("temp_written");
    if (fs::exists(target)) {
      KEEL_CHECK(::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0,
                 "save_model: cannot swap ", tmp, " and ", target, ": ", std::strerror(errno));
      if (hook) hook("swapped");
      fsync_directory(parent_of(target));
    } else {
      KEEL_CHECK(::rename(tmp.c_str(), target.c_str()) == 0, "save_model: cannot rename ", tmp, " to ", target, ": ",
                 std::strerror(errno));
      if (hook) hook("swapped");
    }
    fsync_directory(parent_of(target));
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  // tmp is the old directory now (if there was one): the model saved, what else it held moves back.
  if (!fs::exists(tmp)) return;
  if (hook) hook("moving_back");
  KEEL_CHECK(move_user_entries(tmp, target), "save_model: saved the model to ", target,
             ", but could not move back every other entry the directory held; they are in ", tmp);
  fs::remove_all(tmp);
}

std::shared_ptr<Model> load_model(const std::string& path) {
  KEEL_CHECK(!path.empty(), "load_model: empty path");
  if (is_h5_path(path)) {
    const KerasH5File f = read_keras_h5(path);
    KEEL_CHECK(f.model_config.has_value(), "load_model: ", path,
               " has no model_config (a save_weights file? use load_weights)");
    auto model = model_from_file_config(*f.model_config, path, path, fs::file_size(path));
    load_h5_layers(*model, f.layers, path, {});
    if (f.training_config) {
      check_json_depth(*f.training_config, "load_model: training_config of " + path);
      const nlohmann::json tc = nlohmann::json::parse(*f.training_config, nullptr, /*allow_exceptions=*/false);
      KEEL_CHECK(!tc.is_discarded(), "load_model: training_config of ", path, " is not valid JSON");
      model->compile(compile_options_from_training_config(tc, path, model->output_names()));
      load_optimizer_h5_weights(*model, f.optimizer_weights, path);
    } else {
      KEEL_CHECK(f.optimizer_weights.empty(), "load_model: ", path, " has ", f.optimizer_weights.size(),
                 " optimizer weights but no training_config to compile an optimizer from");
    }
    restore_model_object_states(*model, f.keel_state, path);
    return model;
  }
  const std::string pb = path + "/" + kSavedModelFilename;
  KEEL_CHECK(fs::is_regular_file(pb), "load_model: ", path, " is neither an .h5 file nor a directory with ",
             kSavedModelFilename);
  const SavedModelProto m = parse_saved_model(read_file_bounded(pb, uintmax_t{1} << 30), pb);
  auto model = model_from_file_config(m.model_config, pb, path + "/variables",
                                      bundle_data_bytes(path + "/variables/variables"));
  if (!m.training_config.empty()) {
    check_json_depth(m.training_config, "load_model: training_config of " + pb);
    const nlohmann::json tc = nlohmann::json::parse(m.training_config, nullptr, /*allow_exceptions=*/false);
    KEEL_CHECK(!tc.is_discarded(), "load_model: training_config of ", pb, " is not valid JSON");
    model->compile(compile_options_from_training_config(tc, pb, model->output_names()));
  }
  const std::string prefix = path + "/variables/variables";
  const ModelCheckpointRead read = read_model_checkpoint(*model, prefix);
  // The config and the variables were saved together: values the rebuilt model has no place for mean the
  // two disagree, and loading the rest would silently drop those weights.
  if (!read.unmatched.empty()) {
    std::string all;
    for (const std::string& key : read.unmatched) all += (all.empty() ? "" : ", ") + key;
    KEEL_FAIL("load_model: ", prefix, " holds ", read.unmatched.size(), " layer value(s) that match nothing in the model '",
              model->name(), "' of ", pb, ", first '", read.unmatched.front(), "' (all: ", all, ")");
  }
  return model;
}

}  // namespace keel::keras
