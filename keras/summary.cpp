// Model::summary (Keras 2's utils.layer_utils.print_summary) and Python-style JSON text.
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

// print_row: each field is cut at its column end and padded; the character before a field is a space.
std::string row(const std::vector<std::string>& fields, const std::vector<size_t>& positions) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line = line.substr(0, line.size() - 1) + " ";
    line += fields[i];
    line = line.substr(0, positions[i]);
    line += std::string(positions[i] - line.size(), ' ');
  }
  return line;
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
  os << std::string(width, '_') << "\n" << row(header, pos) << "\n" << std::string(width, '=') << "\n";
  for (size_t i = 0; i < ls.size(); ++i) {
    const Layer& l = *ls[i];
    std::vector<Shape> shapes = layer_output_shapes(l);
    const std::string params = l.built() ? std::to_string(l.count_params()) : "0 (unused)";
    std::vector<std::string> fields{l.name() + " (" + l.class_name() + ")", shapes_text(l, shapes), params};
    if (sequential_like) {
      os << row(fields, pos) << "\n";
    } else {
      std::vector<std::string> connections;
      for (const auto& ins : node_inputs_in_model(l)) {
        for (const KerasTensor& t : ins) {
          connections.push_back(t.layer()->name() + "[" +
                                std::to_string(model_node_index(t.layer().get(), t.node_index())) + "][" +
                                std::to_string(t.tensor_index()) + "]");
        }
      }
      fields.push_back(connections.empty() ? "" : connections[0]);
      os << row(fields, pos) << "\n";
      for (size_t k = 1; k < connections.size(); ++k) os << row({"", "", "", connections[k]}, pos) << "\n";
    }
    os << std::string(width, i + 1 == ls.size() ? '=' : '_') << "\n";
  }
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
