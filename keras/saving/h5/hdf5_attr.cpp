// HDF5 wrappers: attributes (strings as h5py writes them, Keras's split attributes).
#include <algorithm>
#include <cstring>

#include "keel/graph/error.h"
#include "keel/keras/saving/h5/detail/hdf5_detail.h"
#include "keel/keras/saving/h5/hdf5.h"

namespace keel::h5 {

using detail::fail;
using detail::lock;
using detail::own;
using detail::Owned;

namespace {

std::string attr_obj(const std::string& group, const std::string& name) {
  return group + " attribute '" + name + "'";
}

Owned string_type(const std::string& file, const std::string& obj, StringType type, size_t fixed_size) {
  Owned t = own(H5Tcopy(H5T_C_S1), H5Tclose, file, obj, "cannot create string type");
  const bool vlen = type != StringType::fixed_ascii;
  if (H5Tset_size(t->id, vlen ? H5T_VARIABLE : std::max<size_t>(fixed_size, 1)) < 0 ||
      H5Tset_strpad(t->id, vlen ? H5T_STR_NULLTERM : H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(t->id, type == StringType::vlen_utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) < 0) {
    fail(file, obj, "cannot create string type");
  }
  return t;
}

void check_value(const std::string& file, const std::string& obj, const std::string& v) {
  KEEL_CHECK(v.find('\0') == std::string::npos, "h5: ", file, ": ", obj,
             ": strings with NUL bytes cannot be stored");
}

}  // namespace

bool Group::has_attr(const std::string& name) const {
  auto guard = lock();
  const htri_t r = H5Aexists(id_->id, name.c_str());
  if (r < 0) fail(ctx_->path, attr_obj(path_, name), "cannot check for the attribute");
  return r > 0;
}

namespace {
herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> Group::attr_names() const {
  auto guard = lock();
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Aiterate2(id_->id, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &names) < 0) {
    fail(ctx_->path, path_, "cannot list the attributes");
  }
  return names;
}

AttrInfo Group::attr_info(const std::string& name) const {
  const std::string obj = attr_obj(path_, name);
  auto guard = lock();
  Owned a = own(H5Aopen(id_->id, name.c_str(), H5P_DEFAULT), H5Aclose, ctx_->path, obj, "cannot open attribute");
  Owned type = own(H5Aget_type(a->id), H5Tclose, ctx_->path, obj, "cannot read the datatype");
  Owned space = own(H5Aget_space(a->id), H5Sclose, ctx_->path, obj, "cannot read the dataspace");
  AttrInfo info;
  info.size = H5Tget_size(type->id);
  switch (H5Tget_class(type->id)) {
    case H5T_STRING:
      info.cls = AttrInfo::Class::string;
      info.variable_length = H5Tis_variable_str(type->id) > 0;
      info.utf8 = H5Tget_cset(type->id) == H5T_CSET_UTF8;
      info.null_padded = H5Tget_strpad(type->id) == H5T_STR_NULLPAD;
      break;
    case H5T_FLOAT: info.cls = AttrInfo::Class::floating; break;
    case H5T_INTEGER: info.cls = AttrInfo::Class::integer; break;
    default: info.cls = AttrInfo::Class::other; break;
  }
  const H5S_class_t cls = H5Sget_simple_extent_type(space->id);
  info.scalar = cls == H5S_SCALAR;
  if (cls == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(space->id);
    if (rank < 0 || rank > H5S_MAX_RANK) fail(ctx_->path, obj, "cannot read the dataspace rank");
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space->id, dims, nullptr);
    for (int i = 0; i < rank; ++i) info.dims.push_back(static_cast<int64_t>(dims[i]));
  }
  return info;
}

std::vector<std::string> Group::read_string_list_attr(const std::string& name) const {
  const std::string obj = attr_obj(path_, name);
  auto guard = lock();
  Owned a = own(H5Aopen(id_->id, name.c_str(), H5P_DEFAULT), H5Aclose, ctx_->path, obj, "cannot open attribute");
  Owned ftype = own(H5Aget_type(a->id), H5Tclose, ctx_->path, obj, "cannot read the datatype");
  Owned space = own(H5Aget_space(a->id), H5Sclose, ctx_->path, obj, "cannot read the dataspace");
  const H5S_class_t scls = H5Sget_simple_extent_type(space->id);
  const hssize_t n = H5Sget_simple_extent_npoints(space->id);
  if (n < 0) fail(ctx_->path, obj, "cannot read the dataspace");
  const int rank = scls == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space->id) : 0;
  KEEL_CHECK(scls != H5S_NULL && rank <= 1, "h5: ", ctx_->path, ": ", obj,
             ": expected a scalar or a 1-d array of strings, found ", scls == H5S_NULL ? "a null dataspace"
                                                                       : "rank " + std::to_string(rank));
  const H5T_class_t tcls = H5Tget_class(ftype->id);
  if (tcls != H5T_STRING) {
    // h5py stores an empty Python list as an empty float64 array.
    if (n == 0) return {};
    KEEL_FAIL("h5: ", ctx_->path, ": ", obj, ": expected strings, found a non-string attribute of ", n,
              " elements");
  }
  const size_t count = static_cast<size_t>(n);
  const bool vlen = H5Tis_variable_str(ftype->id) > 0;
  const size_t fsize = H5Tget_size(ftype->id);
  // Bound the allocation by what the file can hold: a fixed string is fsize bytes on disk, a variable
  // one a 16-byte heap reference (H5Aget_storage_size alone is no bound: it is computed from the same
  // possibly corrupt dims).
  unsigned long long stored = H5Aget_storage_size(a->id);
  if (ctx_->size > 0) stored = std::min(stored, ctx_->size);
  const unsigned long long per = vlen ? 16 : std::max<size_t>(fsize, 1);
  KEEL_CHECK(count <= stored / per, "h5: ", ctx_->path, ": ", obj, ": claims ", count,
             " strings but the file holds only ", stored, " bytes of it (corrupt file?)");
  std::vector<std::string> out;
  out.reserve(count);
  if (count == 0) return out;
  if (vlen) {
    Owned mem = own(H5Tcopy(H5T_C_S1), H5Tclose, ctx_->path, obj, "cannot create string type");
    H5Tset_size(mem->id, H5T_VARIABLE);
    H5Tset_cset(mem->id, H5Tget_cset(ftype->id));
    std::vector<char*> buf(count, nullptr);
    if (H5Aread(a->id, mem->id, buf.data()) < 0) fail(ctx_->path, obj, "cannot read attribute data");
    for (char* s : buf) out.emplace_back(s == nullptr ? "" : s);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem->id, space->id, H5P_DEFAULT, buf.data());
#else
    H5Dvlen_reclaim(mem->id, space->id, H5P_DEFAULT, buf.data());
#endif
    return out;
  }
  Owned mem = own(H5Tcopy(ftype->id), H5Tclose, ctx_->path, obj, "cannot copy string type");
  std::vector<char> buf(count * fsize);
  if (H5Aread(a->id, mem->id, buf.data()) < 0) fail(ctx_->path, obj, "cannot read attribute data");
  const bool space_padded = H5Tget_strpad(ftype->id) == H5T_STR_SPACEPAD;
  for (size_t i = 0; i < count; ++i) {
    const char* p = buf.data() + i * fsize;
    size_t len = std::find(p, p + fsize, '\0') - p;
    while (space_padded && len > 0 && p[len - 1] == ' ') --len;
    out.emplace_back(p, len);
  }
  return out;
}

std::string Group::read_string_attr(const std::string& name) const {
  std::vector<std::string> v = read_string_list_attr(name);
  KEEL_CHECK(v.size() == 1, "h5: ", ctx_->path, ": ", attr_obj(path_, name), ": expected one string, found ",
             v.size());
  return v[0];
}

namespace {
// Writes `values` (already checked) with `type`; fixed strings use `fixed_size` bytes each.
void write_attr(hid_t loc, const std::string& file, const std::string& obj, const std::string& name,
                const std::vector<std::string>& values, bool scalar, StringType type, size_t fixed_size) {
  if (H5Aexists(loc, name.c_str()) > 0 && H5Adelete(loc, name.c_str()) < 0) {
    fail(file, obj, "cannot replace the attribute");
  }
  const hsize_t n = values.size();
  if (n == 0) {
    Owned space = own(H5Screate_simple(1, &n, nullptr), H5Sclose, file, obj, "cannot create dataspace");
    Owned a = own(H5Acreate2(loc, name.c_str(), H5T_IEEE_F64LE, space->id, H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose, file, obj, "cannot create attribute");
    return;
  }
  Owned t = string_type(file, obj, type, fixed_size);
  Owned space = own(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose, file, obj,
                    "cannot create dataspace");
  Owned a = own(H5Acreate2(loc, name.c_str(), t->id, space->id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, file,
                obj, "cannot create attribute");
  herr_t r;
  if (type == StringType::fixed_ascii) {
    const size_t size = std::max<size_t>(fixed_size, 1);
    std::vector<char> buf(values.size() * size, '\0');
    for (size_t i = 0; i < values.size(); ++i) std::memcpy(&buf[i * size], values[i].data(), values[i].size());
    r = H5Awrite(a->id, t->id, buf.data());
  } else {
    std::vector<const char*> ptrs;
    for (const std::string& v : values) ptrs.push_back(v.c_str());
    r = H5Awrite(a->id, t->id, ptrs.data());
  }
  if (r < 0) fail(file, obj, "cannot write attribute data");
}

size_t longest(const std::vector<std::string>& values) {
  size_t m = 0;
  for (const std::string& v : values) m = std::max(m, v.size());
  return m;
}
}  // namespace

void Group::write_string_attr(const std::string& name, const std::string& value, StringType type) const {
  const std::string obj = attr_obj(path_, name);
  check_value(ctx_->path, obj, value);
  auto guard = lock();
  write_attr(id_->id, ctx_->path, obj, name, {value}, true, type, value.size());
}

void Group::write_string_list_attr(const std::string& name, const std::vector<std::string>& values,
                                   StringType type) const {
  const std::string obj = attr_obj(path_, name);
  for (const std::string& v : values) check_value(ctx_->path, obj, v);
  auto guard = lock();
  write_attr(id_->id, ctx_->path, obj, name, values, false, type, longest(values));
}

// ---------------------------------------------------------------- Keras split attributes

bool Group::has_split_attr(const std::string& name) const {
  return has_attr(name) || has_attr(name + "0");
}

std::vector<std::string> Group::read_split_string_list_attr(const std::string& name) const {
  if (has_attr(name)) return read_string_list_attr(name);
  std::vector<std::string> out;
  for (size_t chunk = 0; has_attr(name + std::to_string(chunk)); ++chunk) {
    std::vector<std::string> part = read_string_list_attr(name + std::to_string(chunk));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

void Group::write_split_string_list_attr(const std::string& name, const std::vector<std::string>& values) const {
  const std::string obj = attr_obj(path_, name);
  for (const std::string& v : values) {
    check_value(ctx_->path, obj, v);
    KEEL_CHECK(v.size() <= kObjectHeaderLimit, "h5: ", ctx_->path, ": ", obj, ": cannot save a value of ",
               v.size(), " bytes (larger than ", kObjectHeaderLimit, " bytes): '", v.substr(0, 40), "...'");
  }
  auto guard = lock();
  // Drop what a previous write left, so that readers cannot mix old chunks with new ones.
  for (size_t chunk = 0; has_attr(name + std::to_string(chunk)); ++chunk) {
    if (H5Adelete(id_->id, (name + std::to_string(chunk)).c_str()) < 0) fail(ctx_->path, obj, "cannot delete");
  }
  // numpy's view of the list: an 'S<longest>' array. Keras splits it into the fewest np.array_split
  // chunks whose nbytes fit the limit; chunk i gets n/k + 1 values when i < n % k.
  const size_t n = values.size();
  const size_t item = std::max<size_t>(longest(values), 1);
  size_t k = 1;
  while (k < n && (n + k - 1) / k * item > kObjectHeaderLimit) ++k;
  if (k == 1) {
    // h5py 3 stores a list of bytes as variable-length ASCII (16 bytes per value in the object
    // header); when that would not fit, store the same values fixed-length as h5py 2 did.
    const bool vlen_fits = n * 16 <= kObjectHeaderLimit;
    write_attr(id_->id, ctx_->path, obj, name, values, false,
               vlen_fits ? StringType::vlen_ascii : StringType::fixed_ascii, item);
    return;
  }
  if (H5Aexists(id_->id, name.c_str()) > 0 && H5Adelete(id_->id, name.c_str()) < 0) {
    fail(ctx_->path, obj, "cannot delete");
  }
  size_t start = 0;
  for (size_t chunk = 0; chunk < k; ++chunk) {
    const size_t len = n / k + (chunk < n % k ? 1 : 0);
    std::vector<std::string> part(values.begin() + start, values.begin() + start + len);
    const std::string chunk_name = name + std::to_string(chunk);
    write_attr(id_->id, ctx_->path, attr_obj(path_, chunk_name), chunk_name, part, false,
               StringType::fixed_ascii, item);
    start += len;
  }
}

}  // namespace keel::h5
