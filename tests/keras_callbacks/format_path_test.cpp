// Python's str.format for ModelCheckpoint's filepath: each expected string was printed by CPython
// 3.11's format(value, spec) / str.format, errors carry Python's reason.
#include <gtest/gtest.h>

#include <limits>

#include "keel/graph/error.h"
#include "keel/keras/callbacks/format_path.h"

using namespace keel;
using namespace keel::keras;

namespace {

struct Case {
  FormatValue value;
  const char* spec;
  const char* want;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST(FormatPath, SpecMiniLanguageMatchesPython) {
  const std::vector<Case> cases = {
      // ints: width, zero padding, sign, alignment, grouping (zero padding grouped as Python does)
      {int64_t{7}, "04d", "0007"},
      {int64_t{12345}, "04d", "12345"},
      {int64_t{5}, "", "5"},
      {int64_t{5}, "+05d", "+0005"},
      {int64_t{-5}, " d", "-5"},
      {int64_t{5}, " d", " 5"},
      {int64_t{5}, "^7d", "   5   "},
      {int64_t{5}, "*<4", "5***"},
      {int64_t{-42}, "=6", "-   42"},
      {int64_t{5}, "<05d", "50000"},
      {int64_t{1234}, "08,d", "0,001,234"},
      {int64_t{1234}, "09,d", "0,001,234"},
      {int64_t{1234}, "010,d", "00,001,234"},
      {int64_t{1234}, "0=10,d", "00,001,234"},
      {int64_t{1234}, "x=10,d", "xxxxx1,234"},
      {int64_t{1234}, "012_d", "0_000_001_234"},
      {int64_t{1234567}, ",", "1,234,567"},
      {std::numeric_limits<int64_t>::min(), "d", "-9223372036854775808"},
      // ints with float types
      {int64_t{5}, ".2f", "5.00"},
      {int64_t{5}, "e", "5.000000e+00"},
      // floats: f e g %, precision, '#'
      {0.51234, ".5f", "0.51234"},
      {0.512345678, ".2f", "0.51"},
      {-1234.5, "012,.2f", "-0,001,234.50"},
      {1234567.891, ",.2f", "1,234,567.89"},
      {1234567.891, "_.2e", "1.23e+06"},
      {1234567.891, ",g", "1.23457e+06"},
      {-0.0, ".2f", "-0.00"},
      {0.5, "%", "50.000000%"},
      {0.5, ".1%", "50.0%"},
      {0.1, "#.3g", "0.100"},
      {1.0, "g", "1"},
      {1.0, "#g", "1.00000"},
      {0.000012345, "E", "1.234500E-05"},
      {3.0, "10.3f", "     3.000"},
      {3.0, "<10.3f", "3.000     "},
      {3.0, "^+10.1f", "   +3.0   "},
      // no type: repr, or 'g'-like keeping a decimal with a precision
      {0.1, "", "0.1"},
      {2.0, "", "2.0"},
      {1e20, "", "1e+20"},
      {1e-5, "", "1e-05"},
      {123.0, ".3", "1.23e+02"},
      {100.0, ".3", "1e+02"},
      {12.0, ".3", "12.0"},
      {0.0001234, ".3", "0.000123"},
      {12345.678, ",.1", "1e+04"},
      // inf / nan
      {kInf, ".5f", "inf"},
      {kInf, "08.2f", "00000inf"},
      {-kInf, "08.5f", "-0000inf"},
      {kNan, "+.2f", "+nan"},
      {kInf, "F", "INF"},
      // strings
      {std::string("ab"), "^7s", "  ab   "},
      {std::string("abcdef"), ".3s", "abc"},
      {std::string("ab"), "", "ab"},
      {std::string("ab"), ">4", "  ab"},
      {std::string("ab"), "05", "ab000"},
      {1234.5, ",", "1,234.5"},
      {12345.0, ",%", "1,234,500.000000%"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("spec '") + c.spec + "'");
    EXPECT_EQ(format_value(c.value, c.spec), c.want);
  }
}

TEST(FormatPath, SpecErrorsCarryPythonsReason) {
  EXPECT_EQ(error_of([] { format_value(1.5, "d"); }), "format: Unknown format code 'd' for object of type 'float' "
                                                      "(keel supports d for int; e, E, f, F, g, G, % for int and "
                                                      "float; s for str)");
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, "s"); }), "format: Unknown format code 's' for object of type 'int'");
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, ".2d"); }), "format: Precision not allowed in integer format specifier");
  EXPECT_EQ(error_of([] { format_value(std::string("a"), "+s"); }), "format: Sign not allowed in string format specifier");
  EXPECT_EQ(error_of([] { format_value(std::string("a"), "=5s"); }),
            "format: '=' alignment not allowed in string format specifier");
  EXPECT_EQ(error_of([] { format_value(std::string("a"), ",s"); }), "format: Cannot specify ',' with 's'.");
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, ".d"); }), "format: Format specifier missing precision");
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, "abc"); }),
            "format: Invalid format specifier 'abc' for object of type 'int'");
  EXPECT_EQ(error_of([] { format_value(1.5, "z.2f"); }), "format: the 'z' option of 'z.2f' is not supported by keel");
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, "x"); }),
            "format: Unknown format code 'x' for object of type 'int' (keel supports d for int; e, E, f, F, g, G, % "
            "for int and float; s for str)");
  // A width that would allocate without bound is refused.
  EXPECT_EQ(error_of([] { format_value(int64_t{5}, "999999999999d"); }),
            "format: width or precision in '999999999999d' is too large (keel allows up to 4096)");
}

TEST(FormatPath, FieldsAsKerasFormatsItsFilepath) {
  const FormatArgs args{{"epoch", int64_t{3}}, {"loss", 0.4567}, {"val_loss", 0.51234}, {"accuracy", 0.8125}};
  EXPECT_EQ(format_fields("training_2/cp-{epoch:04d}.ckpt", args), "training_2/cp-0003.ckpt");
  EXPECT_EQ(format_fields("weights.{epoch:02d}-{val_loss:.2f}.hdf5", args), "weights.03-0.51.hdf5");
  EXPECT_EQ(format_fields("m-{accuracy:.4f}-{epoch}", args), "m-0.8125-3");
  EXPECT_EQ(format_fields("{loss}", args), "0.4567");
  EXPECT_EQ(format_fields("plain/path.ckpt", args), "plain/path.ckpt");
  EXPECT_EQ(format_fields("{{epoch}}-{epoch}}}", args), "{epoch}-3}");
  // The last value of a name wins.
  EXPECT_EQ(format_fields("{epoch}", {{"epoch", int64_t{1}}, {"epoch", int64_t{2}}}), "2");
}

TEST(FormatPath, FieldErrorsNameTheFieldAndThePattern) {
  const FormatArgs args{{"epoch", int64_t{3}}, {"loss", 0.5}, {"val_loss", 0.6}};
  EXPECT_EQ(error_of([&] { format_fields("cp-{val_acc:.2f}", args); }),
            "format_fields: \"cp-{val_acc:.2f}\" has the field 'val_acc', which is not available (available: epoch, "
            "loss, val_loss)");
  EXPECT_EQ(error_of([&] { format_fields("cp-{loss:d}", args); }),
            "format_fields: field 'loss' of \"cp-{loss:d}\": Unknown format code 'd' for object of type 'float' "
            "(keel supports d for int; e, E, f, F, g, G, % for int and float; s for str)");
  EXPECT_EQ(error_of([&] { format_fields("cp-{epoch", args); }),
            "format_fields: Single '{' encountered in \"cp-{epoch\" at offset 3");
  EXPECT_EQ(error_of([&] { format_fields("cp-}", args); }),
            "format_fields: Single '}' encountered in \"cp-}\" at offset 3");
  EXPECT_EQ(error_of([&] { format_fields("cp-{}", args); }),
            "format_fields: positional field '{}' in \"cp-{}\": keel formats named fields only");
  EXPECT_EQ(error_of([&] { format_fields("cp-{0:d}", args); }),
            "format_fields: positional field '{0:d}' in \"cp-{0:d}\": keel formats named fields only");
  EXPECT_EQ(error_of([&] { format_fields("cp-{epoch!r}", args); }),
            "format_fields: field 'epoch!r' in \"cp-{epoch!r}\": attribute, index and conversion ('.', '[', '!') "
            "are not supported by keel");
  EXPECT_EQ(error_of([&] { format_fields("cp-{epoch:{w}d}", args); }),
            "format_fields: nested fields in \"cp-{epoch:{w}d}\" are not supported by keel");
}
