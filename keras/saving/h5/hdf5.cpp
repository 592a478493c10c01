// HDF5 wrappers: ids, lock, errors, files, groups and datasets. Attributes are in hdf5_attr.cpp.
#include "keel/keras/saving/h5/hdf5.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "keel/graph/error.h"
#include "keel/keras/saving/h5/detail/hdf5_detail.h"

namespace keel::h5 {
namespace detail {

std::unique_lock<std::recursive_mutex> lock() {
  static std::recursive_mutex mu;
  std::unique_lock<std::recursive_mutex> guard(mu);
  thread_local bool quiet = false;
  if (!quiet) {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
  return guard;
}

Handle::~Handle() { release(); }

herr_t Handle::release() {
  if (id < 0 || close == nullptr) return 0;
  auto guard = lock();
  const herr_t r = close(id);
  if (r >= 0) id = H5I_INVALID_HID;  // on failure (a file with open members) the destructor retries
  return r;
}

namespace {
struct StackTop {
  std::string desc;
  std::string minor;
  bool found = false;
};

herr_t first_error(unsigned, const H5E_error2_t* e, void* data) {
  auto* top = static_cast<StackTop*>(data);
  if (top->found) return 0;
  top->found = true;
  if (e->desc != nullptr) top->desc = e->desc;
  char buf[256] = {0};
  if (H5Eget_msg(e->min_num, nullptr, buf, sizeof(buf) - 1) > 0) top->minor = buf;
  return 0;
}
}  // namespace

void fail(const std::string& file, const std::string& object, const std::string& what) {
  std::string msg = "h5: " + file + ": " + object + ": " + what;
  {
    auto guard = lock();
    StackTop top;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &top);  // innermost first
    H5Eclear2(H5E_DEFAULT);
    if (top.found) {
      std::string detail = top.desc;
      if (!top.minor.empty() && detail.find(top.minor) == std::string::npos) {
        detail += detail.empty() ? top.minor : " [" + top.minor + "]";
      }
      if (!detail.empty()) msg += " (HDF5: " + detail + ")";
    }
  }
  throw Error(msg);
}

Owned own(hid_t id, Closer close, const std::string& file, const std::string& object,
          const std::string& what) {
  if (id < 0) fail(file, object, what);
  return std::make_unique<Handle>(id, close);
}

std::string join_path(const std::string& group, const std::string& rel) {
  if (rel.empty()) return group;
  return group == "/" ? "/" + rel : group + "/" + rel;
}

}  // namespace detail

using detail::fail;
using detail::lock;
using detail::own;
using detail::Owned;

// ---------------------------------------------------------------- File

File::File(File&&) noexcept = default;
File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (id_) id_->release();
    ctx_ = std::move(other.ctx_);
    id_ = std::move(other.id_);
  }
  return *this;
}
File::~File() {
  if (id_) id_->release();
}

File File::open(const std::string& path) {
  auto guard = lock();
  auto ctx = std::make_shared<detail::FileCtx>();
  ctx->path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    KEEL_FAIL("h5: ", path, ": cannot open: ", std::strerror(errno));
  }
  ctx->size = static_cast<unsigned long long>(st.st_size);
  Owned fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "/", "cannot create file access list");
  H5Pset_fclose_degree(fapl->id, H5F_CLOSE_WEAK);
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl->id);
  if (id < 0) fail(path, "/", "cannot open as HDF5 (missing, truncated or not an HDF5 file)");
  File f;
  f.ctx_ = std::move(ctx);
  f.id_ = std::make_shared<detail::Handle>(id, H5Fclose);
  return f;
}

File File::create(const std::string& path) {
  auto guard = lock();
  auto ctx = std::make_shared<detail::FileCtx>();
  ctx->path = path;
  Owned fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "/", "cannot create file access list");
  // SEMI: closing fails loudly if a Group is still open, instead of silently delaying the close.
  H5Pset_fclose_degree(fapl->id, H5F_CLOSE_SEMI);
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl->id);
  if (id < 0) fail(path, "/", "cannot create file");
  File f;
  f.ctx_ = std::move(ctx);
  f.id_ = std::make_shared<detail::Handle>(id, H5Fclose);
  return f;
}

const std::string& File::path() const {
  static const std::string none;
  return ctx_ ? ctx_->path : none;
}

Group File::root() const {
  KEEL_CHECK(id_ && id_->id >= 0, "h5: ", path(), ": file is closed");
  auto guard = lock();
  Owned g = own(H5Gopen2(id_->id, "/", H5P_DEFAULT), H5Gclose, ctx_->path, "/", "cannot open root group");
  return Group(ctx_, std::shared_ptr<detail::Handle>(std::move(g)), "/");
}

void File::flush() const {
  KEEL_CHECK(id_ && id_->id >= 0, "h5: ", path(), ": file is closed");
  auto guard = lock();
  if (H5Fflush(id_->id, H5F_SCOPE_GLOBAL) < 0) fail(ctx_->path, "/", "cannot flush");
}

void File::close() {
  if (!id_) return;
  auto guard = lock();
  if (id_->release() < 0) fail(ctx_->path, "/", "cannot close (a group may still be open)");
}

// ---------------------------------------------------------------- Group: links

Group::Group(std::shared_ptr<const detail::FileCtx> ctx, std::shared_ptr<detail::Handle> id, std::string path)
    : ctx_(std::move(ctx)), id_(std::move(id)), path_(std::move(path)) {}

const std::string& Group::file() const { return ctx_->path; }

std::string Group::child_path(const std::string& rel) const {
  bool ok = !rel.empty() && rel.front() != '/' && rel.back() != '/' && rel.find("//") == std::string::npos;
  for (size_t start = 0; ok && start <= rel.size();) {
    const size_t end = std::min(rel.find('/', start), rel.size());
    const std::string part = rel.substr(start, end - start);
    ok = part != "." && part != ".." && part.find('\0') == std::string::npos;
    start = end + 1;
  }
  if (!ok) KEEL_FAIL("h5: ", ctx_->path, ": ", path_, ": invalid relative path '", rel, "'");
  return detail::join_path(path_, rel);
}

bool Group::exists(const std::string& rel) const {
  child_path(rel);
  auto guard = lock();
  for (size_t pos = rel.find('/');; pos = rel.find('/', pos + 1)) {
    const std::string prefix = rel.substr(0, pos);
    if (H5Lexists(id_->id, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

namespace {
H5O_type_t object_type(hid_t loc, const std::string& rel) {
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, rel.c_str(), &info, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return H5O_TYPE_UNKNOWN;
  }
  return info.type;
}
}  // namespace

bool Group::is_group(const std::string& rel) const {
  if (!exists(rel)) return false;
  auto guard = lock();
  return object_type(id_->id, rel) == H5O_TYPE_GROUP;
}

bool Group::is_dataset(const std::string& rel) const {
  if (!exists(rel)) return false;
  auto guard = lock();
  return object_type(id_->id, rel) == H5O_TYPE_DATASET;
}

Group Group::open_group(const std::string& rel) const {
  const std::string path = child_path(rel);
  if (!exists(rel)) KEEL_FAIL("h5: ", ctx_->path, ": ", path, ": no such group");
  auto guard = lock();
  Owned g = own(H5Gopen2(id_->id, rel.c_str(), H5P_DEFAULT), H5Gclose, ctx_->path, path, "cannot open group");
  return Group(ctx_, std::shared_ptr<detail::Handle>(std::move(g)), path);
}

Group Group::create_group(const std::string& rel) const {
  const std::string path = child_path(rel);
  auto guard = lock();
  Owned lcpl = own(H5Pcreate(H5P_LINK_CREATE), H5Pclose, ctx_->path, path, "cannot create property list");
  H5Pset_create_intermediate_group(lcpl->id, 1);
  Owned g = own(H5Gcreate2(id_->id, rel.c_str(), lcpl->id, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, ctx_->path,
                path, "cannot create group");
  return Group(ctx_, std::shared_ptr<detail::Handle>(std::move(g)), path);
}

namespace {
herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> Group::children() const {
  auto guard = lock();
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Literate(id_->id, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &names) < 0) {
    fail(ctx_->path, path_, "cannot list the group's members");
  }
  return names;
}

// ---------------------------------------------------------------- Group: datasets

namespace {
Owned bool_type(const std::string& file, const std::string& obj, hid_t base) {
  Owned t = own(H5Tenum_create(base), H5Tclose, file, obj, "cannot create the bool type");
  const signed char f = 0, t1 = 1;
  if (H5Tenum_insert(t->id, "FALSE", &f) < 0 || H5Tenum_insert(t->id, "TRUE", &t1) < 0) {
    fail(file, obj, "cannot create the bool type");
  }
  return t;
}

// h5py's numpy bool: a 1-byte enum with exactly FALSE=0 and TRUE=1.
bool is_bool_enum(hid_t type) {
  if (H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    if (name == nullptr) return false;
    const bool ok = std::strcmp(name, i == 0 ? "FALSE" : "TRUE") == 0;
    H5free_memory(name);
    signed char v = -1;
    if (!ok || H5Tget_member_value(type, i, &v) < 0 || v != static_cast<signed char>(i)) return false;
  }
  return true;
}

std::string describe_type(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(size * 8);
    case H5T_FLOAT: return "float" + std::to_string(size * 8);
    case H5T_STRING: return "string";
    case H5T_ENUM: return "enum of " + std::to_string(size) + " bytes";
    case H5T_COMPOUND: return "compound";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "vlen";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    default: return "an unknown type class";
  }
}
}  // namespace

Shape Group::dataset_shape(const std::string& rel) const {
  const std::string path = child_path(rel);
  auto guard = lock();
  Owned d = own(H5Dopen2(id_->id, rel.c_str(), H5P_DEFAULT), H5Dclose, ctx_->path, path, "cannot open dataset");
  Owned space = own(H5Dget_space(d->id), H5Sclose, ctx_->path, path, "cannot read the dataspace");
  const H5S_class_t cls = H5Sget_simple_extent_type(space->id);
  if (cls == H5S_SCALAR) return {};
  if (cls != H5S_SIMPLE) KEEL_FAIL("h5: ", ctx_->path, ": ", path, ": dataset has a null dataspace");
  const int rank = H5Sget_simple_extent_ndims(space->id);
  if (rank < 0 || rank > H5S_MAX_RANK) fail(ctx_->path, path, "cannot read the dataspace rank");
  hsize_t dims[H5S_MAX_RANK];
  if (H5Sget_simple_extent_dims(space->id, dims, nullptr) < 0) fail(ctx_->path, path, "cannot read the dims");
  Shape shape;
  for (int i = 0; i < rank; ++i) {
    KEEL_CHECK(dims[i] <= static_cast<hsize_t>(INT64_MAX), "h5: ", ctx_->path, ": ", path, ": dimension ", i,
               " is too large");
    shape.push_back(static_cast<int64_t>(dims[i]));
  }
  return shape;
}

Tensor Group::read_dataset(const std::string& rel) const {
  const std::string path = child_path(rel);
  const Shape shape = dataset_shape(rel);
  auto guard = lock();
  Owned d = own(H5Dopen2(id_->id, rel.c_str(), H5P_DEFAULT), H5Dclose, ctx_->path, path, "cannot open dataset");
  Owned ftype = own(H5Dget_type(d->id), H5Tclose, ctx_->path, path, "cannot read the datatype");
  const H5T_class_t cls = H5Tget_class(ftype->id);
  const size_t size = H5Tget_size(ftype->id);
  const bool is_signed = cls == H5T_INTEGER && H5Tget_sign(ftype->id) == H5T_SGN_2;
  DType dtype;
  hid_t mem = -1;
  Owned mem_owned;
  if (cls == H5T_FLOAT && size == 4) {
    dtype = DType::f32, mem = H5T_NATIVE_FLOAT;
  } else if (cls == H5T_FLOAT && size == 8) {
    dtype = DType::f64, mem = H5T_NATIVE_DOUBLE;
  } else if (cls == H5T_INTEGER && size == 4 && is_signed) {
    dtype = DType::i32, mem = H5T_NATIVE_INT32;
  } else if (cls == H5T_INTEGER && size == 8 && is_signed) {
    dtype = DType::i64, mem = H5T_NATIVE_INT64;
  } else if (cls == H5T_INTEGER && size == 1 && !is_signed) {
    dtype = DType::u8, mem = H5T_NATIVE_UINT8;
  } else if (cls == H5T_ENUM && is_bool_enum(ftype->id)) {
    dtype = DType::boolean;
    mem_owned = bool_type(ctx_->path, path, H5T_NATIVE_SCHAR);
    mem = mem_owned->id;
  } else {
    KEEL_FAIL("h5: ", ctx_->path, ": ", path, ": unsupported dataset type ", describe_type(ftype->id),
              " (keel reads float32, float64, int32, int64, uint8 and bool)");
  }
  const int64_t numel = checked_numel(shape, "h5 dataset");
  const unsigned long long elem = dtype_size(dtype);
  KEEL_CHECK(numel == 0 || static_cast<unsigned long long>(numel) <= (1ull << 62) / elem, "h5: ", ctx_->path,
             ": ", path, ": dataset of shape ", shape_str(shape), " is too large");
  const unsigned long long need = static_cast<unsigned long long>(numel) * elem;
  // Bound what the file can make us allocate: the stored bytes (times a generous ratio when filters
  // such as gzip are in use), but never less than 1 MiB (small fill-valued datasets).
  Owned dcpl = own(H5Dget_create_plist(d->id), H5Pclose, ctx_->path, path, "cannot read the creation list");
  const int nfilters = H5Pget_nfilters(dcpl->id);
  unsigned long long stored = H5Dget_storage_size(d->id);
  if (ctx_->size > 0) stored = std::min(stored, ctx_->size);
  const unsigned long long limit = std::max(stored * (nfilters > 0 ? 1100ull : 1ull), 1ull << 20);
  KEEL_CHECK(need <= limit, "h5: ", ctx_->path, ": ", path, ": dataset of shape ", shape_str(shape), " ",
             dtype_name(dtype), " needs ", need, " bytes but the file stores only ", stored,
             " bytes of it (corrupt file?)");
  Tensor out = Tensor::empty(shape, dtype);
  if (numel > 0 && H5Dread(d->id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.raw_data()) < 0) {
    fail(ctx_->path, path, "cannot read dataset data");
  }
  return out;
}

void Group::write_dataset(const std::string& rel, const Tensor& value) const {
  const std::string path = child_path(rel);
  KEEL_CHECK(value.defined(), "h5: ", ctx_->path, ": ", path, ": cannot write an undefined tensor");
  auto guard = lock();
  hid_t ftype = -1, mtype = -1;
  Owned file_bool, mem_bool;
  switch (value.dtype()) {
    case DType::f32: ftype = H5T_IEEE_F32LE, mtype = H5T_NATIVE_FLOAT; break;
    case DType::f64: ftype = H5T_IEEE_F64LE, mtype = H5T_NATIVE_DOUBLE; break;
    case DType::i32: ftype = H5T_STD_I32LE, mtype = H5T_NATIVE_INT32; break;
    case DType::i64: ftype = H5T_STD_I64LE, mtype = H5T_NATIVE_INT64; break;
    case DType::u8: ftype = H5T_STD_U8LE, mtype = H5T_NATIVE_UINT8; break;
    case DType::boolean:
      file_bool = bool_type(ctx_->path, path, H5T_STD_I8LE);
      mem_bool = bool_type(ctx_->path, path, H5T_NATIVE_SCHAR);
      ftype = file_bool->id, mtype = mem_bool->id;
      break;
    case DType::string:
      KEEL_FAIL("h5: ", ctx_->path, ": ", path, ": cannot write a string tensor as a dataset");
  }
  const Shape& shape = value.shape();
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Owned space = own(shape.empty() ? H5Screate(H5S_SCALAR)
                                  : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                    H5Sclose, ctx_->path, path, "cannot create dataspace " + shape_str(shape));
  Owned lcpl = own(H5Pcreate(H5P_LINK_CREATE), H5Pclose, ctx_->path, path, "cannot create property list");
  H5Pset_create_intermediate_group(lcpl->id, 1);
  Owned d = own(H5Dcreate2(id_->id, rel.c_str(), ftype, space->id, lcpl->id, H5P_DEFAULT, H5P_DEFAULT),
                H5Dclose, ctx_->path, path, "cannot create dataset");
  if (value.numel() > 0 && H5Dwrite(d->id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.raw_data()) < 0) {
    fail(ctx_->path, path, "cannot write dataset data");
  }
}

}  // namespace keel::h5
