// keras::Arrays: the x or y of fit/evaluate/predict/train_on_batch/test_on_batch, as Keras takes it: one
// array, a list ordered as model.inputs() (x) or model.outputs() (y), or a map keyed by the input or
// output layer names (Keras's dicts).
//
//   model.fit({image, flipped}, {labels, brightness});                      // lists, in model order
//   model.fit(Arrays::by_name({{"image", image}, {"flipped", flipped}}),
//             Arrays::by_name({{"class", labels}, {"brightness", brightness}}));
//   model.fit(x, y);                                                        // one array each
//
// in_order() puts the arrays in the model's order and says, naming the model's inputs or outputs, when
// their number or names do not match. broadcast_in_order() reads sample weights the way Keras 2.4 does:
// one array applies to every output, and a map may leave outputs out. check_same_samples() says which two arrays disagree on the
// number of samples (the first axis), which every array must share.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "keel/graph/tensor.h"

namespace keel::keras {

class Arrays {
 public:
  Arrays() = default;                                  // no arrays
  Arrays(Tensor one);                                  // NOLINT: implicit, so that fit(x, y) works
  Arrays(std::vector<Tensor> list);                    // NOLINT
  Arrays(std::initializer_list<Tensor> list);          // NOLINT
  // Keyed by input (x) or output (y) layer name. A named function rather than a constructor: a map and a
  // list of two strings would make {"a", "b"} ambiguous.
  static Arrays by_name(std::map<std::string, Tensor> arrays);

  bool empty() const { return kind_ == Kind::none; }
  // How the arrays were given, for messages: "one array", "2 arrays", "arrays for 'a', 'b'".
  std::string describe() const;
  // The arrays in the order of `names` (the model's input or output names). `what` ("fit") and `arg`
  // ("x", "validation_data y") start the messages; `role` is "input" or "output". With empty `names`
  // (a model that does not name its inputs) one unnamed array is expected. A map may leave out the names
  // whose `optional` entry is true (undefined there: the targets of an output without loss or metrics,
  // which Keras lets a dict of targets omit).
  std::vector<Tensor> in_order(const std::vector<std::string>& names, const std::string& what, const char* arg,
                               const char* role, const std::vector<bool>& optional = {}) const;
  // Like in_order, for arrays that are optional per name (sample weights): one array is repeated for every
  // name; a list gives one per name in order (an undefined Tensor: none for that name); a map may leave
  // names out (undefined there), and a key that is none of `names` is an error. No arrays: an empty vector.
  std::vector<Tensor> broadcast_in_order(const std::vector<std::string>& names, const std::string& what,
                                         const char* arg, const char* role) const;

 private:
  enum class Kind { none, one, list, map };
  Kind kind_ = Kind::none;
  std::vector<Tensor> list_;
  std::map<std::string, Tensor> map_;
};

// "'a', 'b'"
std::string quoted_names(const std::vector<std::string>& names);

// One labelled array for check_same_samples: "input 'image'", "output 'class'".
struct LabelledArray {
  std::string label;
  Tensor array;
};
// Every array defined, with a batch axis, and the same number of samples: else an error from `what`
// naming the first two that differ and their sizes.
void check_same_samples(const std::vector<LabelledArray>& arrays, const std::string& what);

}  // namespace keel::keras
