#include "keel/keras/callbacks/format_path.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/csv_logger.h"

namespace keel::keras {

namespace {

struct Spec {
  char fill = ' ';
  char align = 0;  // 0: the type's default
  bool fill_given = false;
  char sign = '-';
  bool alternate = false;
  bool zero = false;
  int64_t width = 0;
  char grouping = 0;  // ',' or '_'
  int precision = -1;
  char type = 0;
};

bool is_align(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }

const char* type_name(const FormatValue& v) {
  return std::holds_alternative<int64_t>(v) ? "int" : std::holds_alternative<double>(v) ? "float" : "str";
}

// Reads decimal digits at s[i...], capped so that a huge width is an error, not an allocation.
int64_t read_number(const std::string& s, size_t& i, const std::string& what) {
  int64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    n = n * 10 + (s[i] - '0');
    KEEL_CHECK(n <= 4096, what, ": width or precision in '", s, "' is too large (keel allows up to 4096)");
    ++i;
  }
  return n;
}

Spec parse_spec(const std::string& s, const FormatValue& v, const std::string& what) {
  Spec spec;
  size_t i = 0;
  if (s.size() >= 2 && is_align(s[1])) {
    spec.fill = s[0];
    spec.fill_given = true;
    spec.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  KEEL_CHECK(i >= s.size() || s[i] != 'z', what, ": the 'z' option of '", s, "' is not supported by keel");
  if (i < s.size() && s[i] == '#') {
    spec.alternate = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    spec.zero = true;
    ++i;
  }
  spec.width = read_number(s, i, what);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t start = i;
    spec.precision = static_cast<int>(read_number(s, i, what));
    KEEL_CHECK(i > start, what, ": Format specifier missing precision");
  }
  if (i < s.size()) spec.type = s[i++];
  KEEL_CHECK(i == s.size(), what, ": Invalid format specifier '", s, "' for object of type '", type_name(v), "'");
  if (spec.zero) {  // Python 3.10+: '0' fills with zeros unless a fill is given, aligns '=' unless given
    if (!spec.fill_given) spec.fill = '0';
    if (!spec.align && !std::holds_alternative<std::string>(v)) spec.align = '=';  // strings: left
  }
  return spec;
}

// Inserts `sep` every three digits of `digits` (all decimal digits). With zero padding (fill '0',
// align '='), leading zeros are added, grouped too, until the result is at least `min_width` long
// and does not start with a separator (Python's rule: 1234 with "08,d" is "0,001,234").
std::string group_digits(const std::string& digits, char sep, int64_t min_width) {
  std::string out;
  int64_t n = 0;  // digits emitted
  for (size_t k = digits.size(); k-- > 0;) {
    if (n > 0 && n % 3 == 0) out.push_back(sep);
    out.push_back(digits[k]);
    ++n;
  }
  while (static_cast<int64_t>(out.size()) < min_width) {
    if (n % 3 == 0) out.push_back(sep);
    out.push_back('0');
    ++n;
  }
  return std::string(out.rbegin(), out.rend());
}

std::string pad(const std::string& body, const Spec& spec, char default_align) {
  const int64_t len = static_cast<int64_t>(body.size());
  if (spec.width <= len) return body;
  const size_t fill = static_cast<size_t>(spec.width - len);
  const char align = spec.align ? spec.align : default_align;
  if (align == '<') return body + std::string(fill, spec.fill);
  if (align == '^') return std::string(fill / 2, spec.fill) + body + std::string(fill - fill / 2, spec.fill);
  return std::string(fill, spec.fill) + body;
}

// |v| with a float presentation type (e E f F g G %, or 0 for Python's default float format).
std::string float_digits(double a, const Spec& spec) {
  char type = spec.type;
  if (std::isinf(a) || std::isnan(a)) {
    std::string s = std::isnan(a) ? "nan" : "inf";
    if (type == 'E' || type == 'F' || type == 'G')
      for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return type == '%' ? s + "%" : s;
  }
  if (type == 0 && spec.precision < 0) return CSVLogger::format_float(a);  // Python's repr
  char buf[4096 + 400];
  const int p = spec.precision < 0 ? 6 : spec.precision;
  const char* alt = spec.alternate ? "#" : "";
  char fmt[16];
  if (type == '%') {
    std::snprintf(fmt, sizeof fmt, "%%%s.*f", alt);
    std::snprintf(buf, sizeof buf, fmt, p, a * 100);
    return std::string(buf) + "%";
  }
  if (type == 0) {  // 'g'-like, at least one digit after the point in fixed form, 'e' when exp >= p - 1
    const int sig = std::max(p, 1);
    std::snprintf(buf, sizeof buf, "%.*e", sig - 1, a);
    const int exponent = std::atoi(std::strchr(buf, 'e') + 1);
    std::string s;
    if (exponent >= -4 && exponent < sig - 1) {
      std::snprintf(buf, sizeof buf, "%.*f", sig - 1 - exponent, a);
      s = buf;
      if (!spec.alternate && s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.push_back('0');
      }
      if (s.find('.') == std::string::npos) s += ".0";
    } else {
      s = buf;
      const size_t e = s.find('e');
      std::string mantissa = s.substr(0, e);
      if (!spec.alternate && mantissa.find('.') != std::string::npos) {
        while (mantissa.back() == '0') mantissa.pop_back();
        if (mantissa.back() == '.') mantissa.pop_back();
      }
      s = mantissa + s.substr(e);
    }
    return s;
  }
  std::snprintf(fmt, sizeof fmt, "%%%s.*%c", alt, type);
  std::snprintf(buf, sizeof buf, fmt, (type == 'g' || type == 'G') && p == 0 ? 1 : p, a);
  return buf;
}

std::string format_number(const FormatValue& v, const Spec& spec, const std::string& what) {
  const bool is_int = std::holds_alternative<int64_t>(v);
  KEEL_CHECK(spec.type != 's', what, ": Unknown format code 's' for object of type '", type_name(v), "'");
  if (is_int && (spec.type == 0 || spec.type == 'd')) {
    KEEL_CHECK(spec.precision < 0, what, ": Precision not allowed in integer format specifier");
  } else {
    const std::string float_types = "eEfFgG%";
    KEEL_CHECK(spec.type == 0 || float_types.find(spec.type) != std::string::npos, what, ": Unknown format code '",
               std::string(1, spec.type), "' for object of type '", type_name(v),
               "' (keel supports d for int; e, E, f, F, g, G, % for int and float; s for str)");
  }
  bool negative;
  std::string digits;  // without sign
  if (is_int && (spec.type == 0 || spec.type == 'd')) {
    const int64_t i = std::get<int64_t>(v);
    negative = i < 0;
    const uint64_t mag = negative ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    digits = std::to_string(mag);
  } else {
    double d = is_int ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v);
    negative = std::signbit(d) && !std::isnan(d);
    digits = float_digits(std::fabs(d), spec);
  }
  const std::string sign = negative ? "-" : spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "";
  // The integer part: the leading digits (inf / nan have none).
  size_t int_end = 0;
  while (int_end < digits.size() && std::isdigit(static_cast<unsigned char>(digits[int_end]))) ++int_end;
  const std::string tail = digits.substr(int_end);
  const bool zero_grouped = spec.grouping && spec.fill == '0' && spec.align == '=';
  if (spec.grouping && int_end > 0) {
    const int64_t min_width =
        zero_grouped ? spec.width - static_cast<int64_t>(sign.size() + tail.size()) : 0;
    digits = group_digits(digits.substr(0, int_end), spec.grouping, min_width) + tail;
  }
  const int64_t len = static_cast<int64_t>(sign.size() + digits.size());
  if (spec.align == '=' && spec.width > len)
    return sign + std::string(static_cast<size_t>(spec.width - len), spec.fill) + digits;
  return pad(sign + digits, spec, '>');
}

std::string format_string(const std::string& s, const Spec& spec, const std::string& what) {
  KEEL_CHECK(spec.type == 0 || spec.type == 's', what, ": Unknown format code '", std::string(1, spec.type),
             "' for object of type 'str'");
  KEEL_CHECK(spec.sign == '-', what, ": Sign not allowed in string format specifier");
  KEEL_CHECK(!spec.alternate, what, ": Alternate form (#) not allowed in string format specifier");
  KEEL_CHECK(spec.align != '=', what, ": '=' alignment not allowed in string format specifier");
  KEEL_CHECK(!spec.grouping, what, ": Cannot specify '", std::string(1, spec.grouping), "' with 's'.");
  const std::string body = spec.precision >= 0 ? s.substr(0, static_cast<size_t>(spec.precision)) : s;
  return pad(body, spec, '<');
}

}  // namespace

std::string format_value(const FormatValue& value, const std::string& spec_text, const std::string& what) {
  const Spec spec = parse_spec(spec_text, value, what);
  if (const auto* s = std::get_if<std::string>(&value)) return format_string(*s, spec, what);
  return format_number(value, spec, what);
}

std::string format_fields(const std::string& pattern, const FormatArgs& args) {
  std::string out;
  const std::string quoted = "\"" + pattern + "\"";
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '}') {
      KEEL_CHECK(i + 1 < pattern.size() && pattern[i + 1] == '}', "format_fields: Single '}' encountered in ",
                 quoted, " at offset ", i);
      out.push_back('}');
      ++i;
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = pattern.find('}', i + 1);
    KEEL_CHECK(close != std::string::npos, "format_fields: Single '{' encountered in ", quoted, " at offset ", i);
    const std::string field = pattern.substr(i + 1, close - i - 1);
    KEEL_CHECK(field.find('{') == std::string::npos, "format_fields: nested fields in ", quoted,
               " are not supported by keel");
    const size_t colon = field.find(':');
    const std::string name = field.substr(0, colon);
    const std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    KEEL_CHECK(!name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])), "format_fields: positional field '{",
               field, "}' in ", quoted, ": keel formats named fields only");
    KEEL_CHECK(name.find_first_of(".[!") == std::string::npos, "format_fields: field '", name, "' in ", quoted,
               ": attribute, index and conversion ('.', '[', '!') are not supported by keel");
    const FormatValue* value = nullptr;
    for (const auto& [key, v] : args)
      if (key == name) value = &v;
    if (!value) {
      std::string keys;
      for (const auto& kv : args) keys += (keys.empty() ? "" : ", ") + kv.first;
      KEEL_FAIL("format_fields: ", quoted, " has the field '", name, "', which is not available (available: ", keys,
                ")");
    }
    out += format_value(*value, spec, "format_fields: field '" + name + "' of " + quoted);
    i = close;
  }
  return out;
}

}  // namespace keel::keras
