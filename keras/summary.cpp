// Model::summary (Keras 2's utils.layer_utils.print_summary) and Python-style JSON text.
#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "keel/graph/error.h"
#include "keel/keras/model.h"

namespace keel::keras {

namespace {

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// print_row of Keras 2.11's utils/layer_utils.py print_summary: a row starts with a space; each field
// is cut to its column less the two spaces that separate columns (none in the last), or earlier, just
// after the first "),", "},", "]," or "'," in the cut; what is left of the fields goes on further lines.
void print_row(std::ostream& os, std::vector<std::string> left, const std::vector<size_t>& positions) {
  auto any_left = [&] {
    for (const auto& f : left) {
      if (!f.empty()) return true;
    }
    return false;
  };
  while (any_left()) {
    std::string line;
    for (size_t col = 0; col < left.size(); ++col) {
      const size_t start = col > 0 ? positions[col - 1] : 0, end = positions[col];
      const size_t space = col + 1 != positions.size() ? 2 : 0;
      size_t cutoff = end > start + space ? end - start - space : 0;
      std::string fit = left[col].substr(0, cutoff);
      size_t brk = std::string::npos;
      for (const char* b : {"),", "},", "],", "',"}) {
        const size_t at = fit.find(b);
        if (at != std::string::npos) brk = std::min(brk, at + 2);
      }
      if (brk != std::string::npos) {
        cutoff = brk;
        fit = fit.substr(0, cutoff);
      }
      if (col == 0) line += " ";
      line += fit + std::string(space, ' ');
      left[col] = cutoff < left[col].size() ? left[col].substr(cutoff) : "";
      if (line.size() < end) line += std::string(end - line.size(), ' ');
    }
    os << line << "\n";
  }
}

// Python's str() of a list of strings: ['a[0][0]', 'b[0][0]'].
std::string python_str_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", '" : "'") + items[i] + "'";
  return s + "]";
}

std::string shapes_text(const Layer& layer, const std::vector<Shape>& shapes) {
  if (shapes.empty()) return "multiple";
  // An InputLayer's output_shape is a list in tf.keras 2.x, as is any layer with several outputs.
  if (shapes.size() == 1 && layer.class_name() != "InputLayer") return keras_shape_str(shapes[0]);
  std::string s = "[";
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + keras_shape_str(shapes[i]);
  return s + "]";
}

int64_t count(const std::vector<Variable>& vs) {
  int64_t n = 0;
  for (const auto& v : vs) n += v.value().numel();
  return n;
}

}  // namespace

std::string Model::summary_string(int64_t line_length) const {
  KEEL_CHECK(is_graph_network(), describe(),
             ": this model has not yet been built; call it on data, build() it, or give its first layer an "
             "input_shape");
  const auto ls = layers();
  // Sequential-like: every node has one input and each layer is used once in the model.
  bool sequential_like = class_name() == "Sequential" || !is_graph_network();
  if (!sequential_like) {
    sequential_like = true;
    std::map<int64_t, int64_t> per_depth;
    std::map<const Layer*, int64_t> uses;
    for (const auto& n : graph_nodes()) {
      ++per_depth[n.depth];
      ++uses[n.layer.get()];
      if (n.layer->inbound_nodes().at(n.node_index).inputs.size() > 1) sequential_like = false;
    }
    for (const auto& [d, k] : per_depth) sequential_like = sequential_like && k == 1;
    for (const auto& [l, k] : uses) sequential_like = sequential_like && k == 1;
  }
  std::vector<double> rel = sequential_like ? std::vector<double>{.45, .85, 1.} : std::vector<double>{.33, .55, .67, 1.};
  const size_t width = line_length > 0 ? static_cast<size_t>(line_length) : (sequential_like ? 65 : 98);
  std::vector<size_t> pos;
  for (double p : rel) pos.push_back(static_cast<size_t>(static_cast<double>(width) * p));
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  if (!sequential_like) header.push_back("Connected to");

  std::ostringstream os;
  os << "Model: \"" << name() << "\"\n";
  os << std::string(width, '_') << "\n";
  print_row(os, header, pos);
  os << std::string(width, '=') << "\n";
  for (const auto& lp : ls) {
    const Layer& l = *lp;
    std::vector<Shape> shapes = layer_output_shapes(l);
    const std::string params = l.built() ? std::to_string(l.count_params()) : "0 (unused)";
    std::vector<std::string> fields{l.name() + " (" + l.class_name() + ")", shapes_text(l, shapes), params};
    if (!sequential_like) {
      std::vector<std::string> connections;
      for (const auto& ins : node_inputs_in_model(l)) {
        // Keras's node.iterate_inbound(): the inbound layer's own node index, not the one in this model.
        for (const KerasTensor& t : ins) {
          connections.push_back(t.layer()->name() + "[" +
                                std::to_string(t.node_index()) + "][" +
                                std::to_string(t.tensor_index()) + "]");
        }
      }
      fields.push_back(python_str_list(connections));
    }
    print_row(os, fields, pos);
    os << std::string(width, ' ') << "\n";  // Keras 2.11 separates layers with a blank line
  }
  os << std::string(width, '=') << "\n";
  const int64_t trainable = count(trainable_weights()), non_trainable = count(non_trainable_weights());
  os << "Total params: " << with_thousands(trainable + non_trainable) << "\n";
  os << "Trainable params: " << with_thousands(trainable) << "\n";
  os << "Non-trainable params: " << with_thousands(non_trainable) << "\n";
  os << std::string(width, '_') << "\n";
  return os.str();
}

void Model::summary(std::ostream& os) const { os << summary_string(); }
void Model::summary() const { summary(std::cout); }

std::string python_json_dumps(const Json& j) {
  if (j.is_object()) {
    std::string s = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) s += ", ";
      first = false;
      s += Json(it.key()).dump(-1, ' ', true) + ": " + python_json_dumps(it.value());
    }
    return s + "}";
  }
  if (j.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < j.size(); ++i) s += (i ? ", " : "") + python_json_dumps(j[i]);
    return s + "]";
  }
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (v != v) return "NaN";
    if (v == std::numeric_limits<double>::infinity()) return "Infinity";
    if (v == -std::numeric_limits<double>::infinity()) return "-Infinity";
  }
  return j.dump(-1, ' ', true);
}

}  // namespace keel::keras
