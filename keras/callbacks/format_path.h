// Python's str.format with named fields, for ModelCheckpoint's filepath ("cp-{epoch:04d}.ckpt",
// "w.{epoch:02d}-{val_loss:.2f}.h5") and Keras-style messages.
//
//   FormatArgs args{{"epoch", int64_t{3}}, {"val_loss", 0.51234}};
//   format_fields("cp-{epoch:04d}-{val_loss:.2f}", args);   // "cp-0003-0.51"
//   format_value(FormatValue(0.51234), ".5f");              // "0.51234"
//   format_value(FormatValue(1234567.0), ",.1f");           // "1,234,567.0"
//
// The format-spec mini-language [[fill]align][sign][#][0][width][,|_][.precision][type] as Python
// 3.11 applies it to int, float and str: align < > ^ = (numbers right, strings left by default),
// sign + - space, '0' (sign-aware zero padding, grouped when ',' or '_' is given), '#' (e f g keep
// the point / trailing zeros), types d (int only), e E f F g G % (int or float), s (str only), and
// none (int: d; float: Python's repr, or 'g'-like with at least one decimal when a precision is
// given; str: s). `{{` and `}}` are literal braces.
//
// Errors throw keel::Error with Python's reason, naming the field and the pattern, e.g.
//   format_fields: field 'val_loss' of "cp-{val_loss:d}": Unknown format code 'd' for object of type 'float'
// A field missing from `args` names the key and lists the available ones (Python raises KeyError).
// Not supported (an error that says so): positional fields "{}"/"{0}", attribute or index access
// "{a.b}"/"{a[0]}", conversions "{a!r}", nested fields in a spec, the 'z' option and the types
// b c n o x X.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace keel::keras {

using FormatValue = std::variant<int64_t, double, std::string>;
using FormatArgs = std::vector<std::pair<std::string, FormatValue>>;

// format(value, spec) as Python. `what` prefixes error messages ("field 'epoch' of \"...\"").
std::string format_value(const FormatValue& value, const std::string& spec, const std::string& what = "format");

// pattern.format(**args). When a name appears twice in `args`, the last one wins.
std::string format_fields(const std::string& pattern, const FormatArgs& args);

}  // namespace keel::keras
