// keel::h5: small RAII wrappers over the HDF5 C API, enough for Keras's HDF5 files.
//
//   h5::File f = h5::File::create("/tmp/w.h5");
//   h5::Group g = f.root().create_group("dense");
//   g.write_string_list_attr("weight_names", {"dense/kernel:0"});
//   g.write_dataset("dense/kernel:0", Tensor::ones({3, 2}));   // creates the nested group dense/dense
//   f.close();
//   h5::File r = h5::File::open("/tmp/w.h5");
//   Tensor k = r.root().open_group("dense").read_dataset("dense/kernel:0");
//
// Every failure throws keel::Error naming the file and the absolute object path, with HDF5's own
// innermost message appended, e.g.
//   h5: /tmp/w.h5: /dense/dense/kernel:0: cannot open dataset (HDF5: object 'kernel:0' doesn't exist)
// HDF5's automatic error printing is turned off. Calls into HDF5 are serialized by one process-wide lock.
// Datasets map to keel dtypes f32, f64, i32, i64, u8 and bool (an int8 enum FALSE=0/TRUE=1, as h5py
// writes numpy bool); rank-0 tensors are scalar dataspaces (h5py's dset[()]). Reads refuse a dataset
// whose size is larger than the data the file can hold, so a hostile file cannot make keel allocate.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "keel/graph/shape.h"
#include "keel/graph/tensor.h"

namespace keel::h5 {

namespace detail {
struct Handle;   // owns one HDF5 id; defined in the implementation
struct FileCtx;  // the file's path, for messages
}  // namespace detail

// How a string attribute is stored. h5py 3 writes Python str as variable-length UTF-8, bytes (and lists
// of bytes) as variable-length ASCII, and numpy 'S' arrays as fixed-length null-padded ASCII.
enum class StringType { vlen_ascii, vlen_utf8, fixed_ascii };

// What an attribute's datatype and dataspace are, for checks of the bytes on disk.
struct AttrInfo {
  enum class Class { string, floating, integer, other };
  Class cls = Class::other;
  bool variable_length = false;  // strings only
  bool utf8 = false;             // strings only
  bool null_padded = false;      // fixed strings: NULLPAD (numpy) rather than NULLTERM
  size_t size = 0;               // element size in bytes (fixed strings: their length)
  bool scalar = false;           // scalar dataspace
  Shape dims;                    // simple dataspace dims (empty for a scalar)
};

// Keras splits string-list attributes whose numpy form is larger than this into name0, name1, ...
inline constexpr size_t kObjectHeaderLimit = 64512;

class Group {
 public:
  const std::string& file() const;
  const std::string& path() const { return path_; }  // absolute, "/" for the root

  // `rel` is a path relative to this group, "a/b:0"; components must be non-empty.
  bool exists(const std::string& rel) const;  // every link along the path exists
  bool is_group(const std::string& rel) const;
  bool is_dataset(const std::string& rel) const;
  Group open_group(const std::string& rel) const;
  Group create_group(const std::string& rel) const;  // creates missing parents; fails if it exists
  std::vector<std::string> children() const;        // link names, in name order

  Tensor read_dataset(const std::string& rel) const;
  Shape dataset_shape(const std::string& rel) const;
  // Creates the dataset (and missing parent groups) with the tensor's shape and a little-endian type.
  void write_dataset(const std::string& rel, const Tensor& value) const;

  bool has_attr(const std::string& name) const;
  std::vector<std::string> attr_names() const;  // in name order
  AttrInfo attr_info(const std::string& name) const;
  // A string attribute: scalar, or an array of exactly one element.
  std::string read_string_attr(const std::string& name) const;
  // A string array (fixed or variable length); an empty numeric array (what h5py writes for []) reads
  // as an empty list.
  std::vector<std::string> read_string_list_attr(const std::string& name) const;
  void write_string_attr(const std::string& name, const std::string& value,
                         StringType type = StringType::vlen_utf8) const;
  // An empty list is written as h5py writes `attrs[name] = []`: an empty float64 array.
  void write_string_list_attr(const std::string& name, const std::vector<std::string>& values,
                              StringType type = StringType::vlen_ascii) const;

  // Keras's split attributes (load/save_attributes_to_hdf5_group): `name` if present, otherwise
  // `name0`, `name1`, ... concatenated; neither present reads as an empty list (as Keras does).
  bool has_split_attr(const std::string& name) const;
  std::vector<std::string> read_split_string_list_attr(const std::string& name) const;
  // Writes `name` as a variable-length ASCII array when its numpy form (n * longest) fits in
  // kObjectHeaderLimit, else as fixed-length chunks `name0`, `name1`, ... split like np.array_split.
  // A single value longer than the limit is an error, as in Keras.
  void write_split_string_list_attr(const std::string& name,
                                    const std::vector<std::string>& values) const;

 private:
  friend class File;
  Group(std::shared_ptr<const detail::FileCtx> ctx, std::shared_ptr<detail::Handle> id, std::string path);
  std::string child_path(const std::string& rel) const;
  std::shared_ptr<const detail::FileCtx> ctx_;
  std::shared_ptr<detail::Handle> id_;
  std::string path_;
};

class File {
 public:
  static File open(const std::string& path);    // read-only; a missing, truncated or foreign file throws
  static File create(const std::string& path);  // truncates an existing file
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();  // closes, swallowing errors; call close() to see them

  const std::string& path() const;
  Group root() const;
  void flush() const;  // H5Fflush of the whole file
  // Closes the file (every Group handed out must be gone first, or close fails naming the file).
  void close();

 private:
  File() = default;
  std::shared_ptr<const detail::FileCtx> ctx_;
  std::shared_ptr<detail::Handle> id_;
};

}  // namespace keel::h5
