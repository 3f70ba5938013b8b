// JsonEventParser: what each JSON value becomes as a FieldValue, and the exact reason every kind
// of malformed line is refused with.
#include "connectors/formats/json_event_parser.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/printers.h"

namespace rivulet::connectors {
namespace {

using config::FieldType;
using config::FieldValue;
using pipeline::ErrorReason;

// The fields every test asks for, and their positions in the output.
enum Field { kI, kF, kS, kB, kN, kO, kFieldCount };

class JsonEventParserTest : public ::testing::Test {
 protected:
  ErrorReason parse(std::string_view line) { return parser_.parseCopy(line, out_); }

  // A field of the last parse.
  const config::FieldValue& at(Field f) const { return out_[f]; }

  JsonEventParser parser_{{"i", "f", "s", "b", "n", "o"}};
  std::array<config::FieldValue, kFieldCount> out_;
};

// ---- numbers ----

struct NumberCase {
  const char* json;
  bool is_integer;
  std::int64_t integer;  // when is_integer
  double number;
  const char* text;  // the token as written
};

void PrintTo(const NumberCase& c, std::ostream* os) { *os << c.json; }

class JsonNumberTest : public JsonEventParserTest,
                       public ::testing::WithParamInterface<NumberCase> {};

TEST_P(JsonNumberTest, ParsesToNumberWithTokenText) {
  const NumberCase& c = GetParam();
  const std::string line = std::string(R"({"i":)") + c.json + "}";
  ASSERT_EQ(parse(line), ErrorReason::kNone) << line;
  EXPECT_EQ(at(kI).type, config::FieldType::kNumber);
  EXPECT_EQ(at(kI).is_integer, c.is_integer);
  if (c.is_integer) {
    EXPECT_EQ(at(kI).integer, c.integer);
  }
  EXPECT_DOUBLE_EQ(at(kI).number, c.number);
  EXPECT_EQ(at(kI).text, c.text);
}

INSTANTIATE_TEST_SUITE_P(
    Numbers, JsonNumberTest,
    ::testing::Values(
        NumberCase{"0", true, 0, 0.0, "0"}, NumberCase{"42", true, 42, 42.0, "42"},
        NumberCase{"-17", true, -17, -17.0, "-17"}, NumberCase{"-0", true, 0, 0.0, "-0"},
        NumberCase{"9223372036854775807", true, std::numeric_limits<std::int64_t>::max(),
                   9223372036854775807.0, "9223372036854775807"},
        NumberCase{"-9223372036854775808", true, std::numeric_limits<std::int64_t>::min(),
                   -9223372036854775808.0, "-9223372036854775808"},
        NumberCase{"1.5", false, 0, 1.5, "1.5"}, NumberCase{"-0.25", false, 0, -0.25, "-0.25"},
        NumberCase{"1.0", false, 0, 1.0, "1.0"}, NumberCase{"1e3", false, 0, 1000.0, "1e3"},
        NumberCase{"2.5E-3", false, 0, 0.0025, "2.5E-3"},
        NumberCase{"-1E+2", false, 0, -100.0, "-1E+2"},
        // Integers past int64 are still numbers, only not is_integer.
        NumberCase{"9223372036854775808", false, 0, 9223372036854775808.0, "9223372036854775808"},
        NumberCase{"18446744073709551615", false, 0, 18446744073709551615.0,
                   "18446744073709551615"},
        NumberCase{"18446744073709551616", false, 0, 18446744073709551616.0,
                   "18446744073709551616"},
        NumberCase{"123456789012345678901234567890", false, 0, 1.2345678901234568e29,
                   "123456789012345678901234567890"}),
    [](const ::testing::TestParamInfo<NumberCase>& tested) {
      return "Case" + std::to_string(tested.index);
    });

TEST_F(JsonEventParserTest, NumberTextLeavesOutSurroundingWhitespace) {
  ASSERT_EQ(parse("{ \"i\" :\t42 \n, \"f\": 1.5 }"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).text, "42");
  EXPECT_EQ(at(kF).text, "1.5");
  EXPECT_EQ(at(kI).integer, 42);
  EXPECT_DOUBLE_EQ(at(kF).number, 1.5);
}

// A big integer in a member nobody reads must not cost the whole event either.
TEST_F(JsonEventParserTest, BigIntegerInUnreadMemberIsAccepted) {
  ASSERT_EQ(parse(R"({"id":123456789012345678901234567890,"i":1})"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).integer, 1);
}

// ---- strings, bools, null, nested values ----

struct StringCase {
  const char* json;      // the JSON string literal, quotes included
  const char* expected;  // the unescaped bytes
};

void PrintTo(const StringCase& c, std::ostream* os) { *os << c.json; }

class JsonStringTest : public JsonEventParserTest,
                       public ::testing::WithParamInterface<StringCase> {};

TEST_P(JsonStringTest, TextIsUnescaped) {
  const StringCase& c = GetParam();
  const std::string line = std::string(R"({"s":)") + c.json + "}";
  ASSERT_EQ(parse(line), ErrorReason::kNone) << line;
  EXPECT_EQ(at(kS).type, config::FieldType::kString);
  EXPECT_EQ(at(kS).text, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Strings, JsonStringTest,
                         ::testing::Values(StringCase{R"("plain")", "plain"},
                                           StringCase{R"("")", ""}, StringCase{R"("a\"b")", "a\"b"},
                                           StringCase{R"("back\\slash")", "back\\slash"},
                                           StringCase{R"("\/")", "/"},
                                           StringCase{R"("tab\there")", "tab\there"},
                                           StringCase{R"("line\nbreak\r")", "line\nbreak\r"},
                                           StringCase{R"("\b\f")", "\b\f"},
                                           StringCase{R"("\u00e9")", "\xc3\xa9"},
                                           StringCase{R"("\ud83d\ude00")", "\xf0\x9f\x98\x80"},
                                           StringCase{R"("caf\u00e9 \"x\"")", "caf\xc3\xa9 \"x\""},
                                           StringCase{"\"raw \xc3\xa9\"", "raw \xc3\xa9"}),
                         [](const ::testing::TestParamInfo<StringCase>& tested) {
                           return "Case" + std::to_string(tested.index);
                         });

TEST_F(JsonEventParserTest, BoolsAreBoolWithTokenText) {
  ASSERT_EQ(parse(R"({"b":true,"f":false})"), ErrorReason::kNone);
  EXPECT_EQ(at(kB).type, config::FieldType::kBool);
  EXPECT_EQ(at(kB).text, "true");
  EXPECT_EQ(at(kF).type, config::FieldType::kBool);
  EXPECT_EQ(at(kF).text, "false");
}

TEST_F(JsonEventParserTest, NullIsNull) {
  ASSERT_EQ(parse(R"({"n":null,"s":null})"), ErrorReason::kNone);
  EXPECT_EQ(at(kN).type, config::FieldType::kNull);
  EXPECT_EQ(at(kS).type, config::FieldType::kNull);
}

TEST_F(JsonEventParserTest, NestedObjectsAndArraysAreOther) {
  ASSERT_EQ(parse(R"({"o":{"x":[1,2,{"y":null}],"z":"}"},"f":[1,[2,3]],"s":{},"b":[],"i":7})"),
            ErrorReason::kNone);
  EXPECT_EQ(at(kO).type, config::FieldType::kOther);
  EXPECT_EQ(at(kF).type, config::FieldType::kOther);
  EXPECT_EQ(at(kS).type, config::FieldType::kOther);
  EXPECT_EQ(at(kB).type, config::FieldType::kOther);
  // The member after the nested ones is still read.
  EXPECT_EQ(at(kI).type, config::FieldType::kNumber);
  EXPECT_EQ(at(kI).integer, 7);
}

TEST_F(JsonEventParserTest, FieldsInsideNestedObjectsAreNotTopLevelFields) {
  ASSERT_EQ(parse(R"({"o":{"i":5,"s":"inner"},"x":[{"i":6}]})"), ErrorReason::kNone);
  EXPECT_EQ(at(kO).type, config::FieldType::kOther);
  EXPECT_EQ(at(kI).type, config::FieldType::kMissing);
  EXPECT_EQ(at(kS).type, config::FieldType::kMissing);
}

// A path (keys joined by kFieldPathSeparator) reads a field inside nested objects; the object
// itself is still an object (kOther) for whoever asks for it; arrays are not descended into; a
// top-level key with a dot is an ordinary key.
TEST(JsonEventParserPaths, NestedFieldsAreReadByTheirPath) {
  const std::string sep(1, config::kFieldPathSeparator);
  JsonEventParser parser({"order" + sep + "qty", "order" + sep + "side", "order",
                          "a" + sep + "b" + sep + "c", "x" + sep + "y", "dotted.key",
                          "order" + sep + "missing"});
  std::array<config::FieldValue, 7> out;
  ASSERT_EQ(
      parser.parseCopy(R"({"dotted.key":1,"order":{"side":"buy","skip":[{"qty":9}],"qty":150},)"
                       R"("a":{"b":{"c":true}},"x":[{"y":2}]})",
                       out),
      ErrorReason::kNone);
  EXPECT_EQ(out[0].type, config::FieldType::kNumber);
  EXPECT_EQ(out[0].integer, 150);
  EXPECT_EQ(out[1].type, config::FieldType::kString);
  EXPECT_EQ(out[1].text, "buy");
  EXPECT_EQ(out[2].type, config::FieldType::kOther);
  EXPECT_EQ(out[3].type, config::FieldType::kBool);
  EXPECT_EQ(out[4].type, config::FieldType::kMissing);  // inside an array
  EXPECT_EQ(out[5].type, config::FieldType::kNumber);
  EXPECT_EQ(out[6].type, config::FieldType::kMissing);
  // A path whose object is a scalar is missing; malformed input inside a read object is caught.
  ASSERT_EQ(parser.parseCopy(R"({"order":5})", out), ErrorReason::kNone);
  EXPECT_EQ(out[0].type, config::FieldType::kMissing);
  EXPECT_EQ(parser.parseCopy(R"({"order":{"qty":tru}})", out), ErrorReason::kInvalidJson);
  EXPECT_EQ(parser.parseCopy(R"({"order":{"qty":1,}})", out), ErrorReason::kInvalidJson);
}

TEST_F(JsonEventParserTest, AbsentFieldsAreMissing) {
  ASSERT_EQ(parse(R"({"i":1,"other":2})"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).type, config::FieldType::kNumber);
  for (Field f : {kF, kS, kB, kN, kO}) EXPECT_EQ(at(f).type, config::FieldType::kMissing) << f;

  ASSERT_EQ(parse("{}"), ErrorReason::kNone);
  for (const config::FieldValue& v : out_) EXPECT_EQ(v.type, config::FieldType::kMissing);
}

TEST_F(JsonEventParserTest, EveryParseStartsFromMissing) {
  ASSERT_EQ(parse(R"({"i":1,"s":"x","b":true})"), ErrorReason::kNone);
  ASSERT_EQ(parse(R"({"f":2.5})"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).type, config::FieldType::kMissing);
  EXPECT_EQ(at(kS).type, config::FieldType::kMissing);
  EXPECT_EQ(at(kB).type, config::FieldType::kMissing);
  EXPECT_EQ(at(kF).type, config::FieldType::kNumber);
  EXPECT_FALSE(at(kF).is_integer);
}

TEST_F(JsonEventParserTest, KeyOrderDoesNotMatter) {
  const char* orders[] = {
      R"({"i":3,"f":0.5,"s":"x","b":false,"n":null,"o":[1]})",
      R"({"o":[1],"n":null,"b":false,"s":"x","f":0.5,"i":3})",
      R"({"s":"x","zz":1,"i":3,"o":[1],"f":0.5,"b":false,"n":null})",
  };
  for (const char* line : orders) {
    SCOPED_TRACE(line);
    ASSERT_EQ(parse(line), ErrorReason::kNone);
    EXPECT_EQ(at(kI).integer, 3);
    EXPECT_DOUBLE_EQ(at(kF).number, 0.5);
    EXPECT_EQ(at(kS).text, "x");
    EXPECT_EQ(at(kB).text, "false");
    EXPECT_EQ(at(kN).type, config::FieldType::kNull);
    EXPECT_EQ(at(kO).type, config::FieldType::kOther);
  }
}

TEST_F(JsonEventParserTest, DuplicateKeysFirstWins) {
  ASSERT_EQ(parse(R"({"i":1,"i":2})"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).integer, 1);

  ASSERT_EQ(parse(R"({"s":"first","i":0,"s":5,"s":{"x":1}})"), ErrorReason::kNone);
  EXPECT_EQ(at(kS).type, config::FieldType::kString);
  EXPECT_EQ(at(kS).text, "first");

  ASSERT_EQ(parse(R"({"n":null,"n":1})"), ErrorReason::kNone);
  EXPECT_EQ(at(kN).type, config::FieldType::kNull);
}

// A repeated key is still part of the object: a syntax error in it makes the line malformed.
TEST_F(JsonEventParserTest, MalformedDuplicateIsInvalid) {
  EXPECT_EQ(parse(R"({"i":1,"i":tru})"), ErrorReason::kInvalidJson);
}

TEST_F(JsonEventParserTest, EscapedKeysMatchFields) {
  ASSERT_EQ(parse(R"({"\u0069":7,"\u0073":"v"})"), ErrorReason::kNone);
  EXPECT_EQ(at(kI).integer, 7);
  EXPECT_EQ(at(kS).text, "v");
}

TEST_F(JsonEventParserTest, UnreadMembersOfEveryTypeAreAccepted) {
  ASSERT_EQ(parse(R"({"zz":[1,{"a":2}],"yy":{"a":[]},"xx":"s\"","ww":-1.5e3,"vv":true,)"
                  R"("uu":null,"tt":false,"i":1})"),
            ErrorReason::kNone);
  EXPECT_EQ(at(kI).integer, 1);
}

// The header says nested values nobody reads get a structural check only; this pins down that
// choice so a change of it is deliberate.
TEST_F(JsonEventParserTest, NestedScalarsAreOnlyStructurallyChecked) {
  EXPECT_EQ(parse(R"({"zz":[1,{"b":tru}],"i":1})"), ErrorReason::kNone);
  EXPECT_EQ(parse(R"({"o":[1,{"b":tru}]})"), ErrorReason::kNone);
  EXPECT_EQ(at(kO).type, config::FieldType::kOther);
}

// Views into the parser stay valid until the next parse, and each parse sees only its own line.
TEST_F(JsonEventParserTest, ReusedParserGivesEachLineItsOwnValues) {
  for (int n = 0; n < 100; ++n) {
    const std::string s = "v" + std::to_string(n) + "\\n";
    const std::string line =
        R"({"i":)" + std::to_string(n) + R"(,"s":")" + s + R"(","f":)" + std::to_string(n) + ".5}";
    ASSERT_EQ(parse(line), ErrorReason::kNone) << line;
    EXPECT_EQ(at(kI).integer, n);
    EXPECT_EQ(at(kS).text, "v" + std::to_string(n) + "\n");
    EXPECT_DOUBLE_EQ(at(kF).number, n + 0.5);
  }
}

// ---- malformed input, with the exact reason ----

struct MalformedCase {
  const char* line;
  ErrorReason reason;
};

void PrintTo(const MalformedCase& c, std::ostream* os) {
  *os << "'" << c.line << "' -> " << pipeline::reasonName(c.reason);
}

class JsonMalformedTest : public JsonEventParserTest,
                          public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(JsonMalformedTest, RefusedWithReason) {
  const MalformedCase& c = GetParam();
  EXPECT_EQ(pipeline::reasonName(parse(c.line)), pipeline::reasonName(c.reason))
      << "line: " << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    NotJson, JsonMalformedTest,
    ::testing::Values(MalformedCase{"", ErrorReason::kInvalidJson},
                      MalformedCase{"   ", ErrorReason::kInvalidJson},
                      MalformedCase{"{", ErrorReason::kInvalidJson},
                      MalformedCase{"}", ErrorReason::kInvalidJson},
                      MalformedCase{"abc", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i":})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i":1)", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i":1,})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i" 1})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({i:1})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i":1 "f":2})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"s":"unterminated})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"o":[1,2})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"zz":[1,2})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"zz":{"a":1})", ErrorReason::kInvalidJson}));

INSTANTIATE_TEST_SUITE_P(TrailingGarbage, JsonMalformedTest,
                         ::testing::Values(MalformedCase{R"({"a":1} x)", ErrorReason::kInvalidJson},
                                           MalformedCase{R"({"i":1} x)", ErrorReason::kInvalidJson},
                                           MalformedCase{R"({"i":1}{"i":2})",
                                                         ErrorReason::kInvalidJson},
                                           MalformedCase{R"({"i":1},)", ErrorReason::kInvalidJson},
                                           MalformedCase{R"({} 1)", ErrorReason::kInvalidJson},
                                           MalformedCase{R"(42 x)", ErrorReason::kInvalidJson},
                                           MalformedCase{R"("s" "t")", ErrorReason::kInvalidJson}));

INSTANTIATE_TEST_SUITE_P(NotObject, JsonMalformedTest,
                         ::testing::Values(MalformedCase{"[1,2]", ErrorReason::kNotObject},
                                           MalformedCase{"[]", ErrorReason::kNotObject},
                                           MalformedCase{R"([{"i":1}])", ErrorReason::kNotObject},
                                           MalformedCase{"42", ErrorReason::kNotObject},
                                           MalformedCase{"-1.5e3", ErrorReason::kNotObject},
                                           MalformedCase{R"("s")", ErrorReason::kNotObject},
                                           MalformedCase{"true", ErrorReason::kNotObject},
                                           MalformedCase{"null", ErrorReason::kNotObject},
                                           MalformedCase{"  [1]  ", ErrorReason::kNotObject}));

// A top-level array that is cut, broken or followed by more text is garbage, not "not an
// object" (and must not reach simdjson's development checks with a failed array).
class JsonBrokenArrayTest : public JsonMalformedTest {};

TEST_P(JsonBrokenArrayTest, RefusedWithReason) {
  const MalformedCase& c = GetParam();
  EXPECT_EQ(pipeline::reasonName(parse(c.line)), pipeline::reasonName(c.reason))
      << "line: " << c.line;
}

INSTANTIATE_TEST_SUITE_P(BrokenTopLevelArray, JsonBrokenArrayTest,
                         ::testing::Values(MalformedCase{"[1,2] x", ErrorReason::kInvalidJson},
                                           MalformedCase{"[1,2", ErrorReason::kInvalidJson},
                                           MalformedCase{"[1,,2]", ErrorReason::kInvalidJson},
                                           MalformedCase{"[1 2]", ErrorReason::kInvalidJson},
                                           MalformedCase{"[}", ErrorReason::kInvalidJson},
                                           MalformedCase{"[1] [2]", ErrorReason::kInvalidJson}));

// Not JSON at all, though the first byte looks like the start of a scalar.
INSTANTIATE_TEST_SUITE_P(BrokenTopLevelScalar, JsonMalformedTest,
                         ::testing::Values(MalformedCase{"tru", ErrorReason::kInvalidJson},
                                           MalformedCase{"nul", ErrorReason::kInvalidJson},
                                           MalformedCase{"-", ErrorReason::kInvalidJson},
                                           MalformedCase{"01", ErrorReason::kInvalidJson},
                                           MalformedCase{R"("unterminated)",
                                                         ErrorReason::kInvalidJson}));

// A syntax error in a scalar member is found whether or not a pipeline reads it.
INSTANTIATE_TEST_SUITE_P(
    BrokenMemberScalar, JsonMalformedTest,
    ::testing::Values(MalformedCase{R"({"a":tru})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":nul})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":falsy})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":01})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":1.})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":-})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":"\x"})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":"\ud800"})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":abc})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"a":1,"i":2,"b":tru})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"i":tru})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"b":tru})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"n":nul})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"f":1.})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"f":01})", ErrorReason::kInvalidJson},
                      MalformedCase{R"({"s":"\x"})", ErrorReason::kInvalidJson}));

// ---- parse() on a caller's padded buffer ----

TEST(JsonEventParserPadded, ParsesInPlaceWithoutCopy) {
  JsonEventParser parser({"i", "s"});
  std::array<config::FieldValue, 2> out;
  const std::string_view line = R"({"i":12345,"s":"plain"})";
  std::string buffer(line);
  buffer.append(simdjson::SIMDJSON_PADDING, 'x');
  ASSERT_EQ(parser.parse(std::string_view(buffer.data(), line.size()), buffer.size(), out),
            ErrorReason::kNone);
  EXPECT_EQ(out[0].integer, 12345);
  EXPECT_EQ(out[1].text, "plain");
  // A number's text is a view of the caller's bytes.
  EXPECT_GE(out[0].text.data(), buffer.data());
  EXPECT_LT(out[0].text.data(), buffer.data() + line.size());
}

// The padding of a line in a LineFramer is the next line: it must not count as trailing text.
TEST(JsonEventParserPadded, BytesPastTheLineAreNotPartOfIt) {
  JsonEventParser parser({"i"});
  std::array<config::FieldValue, 1> out;
  const std::string_view first = R"({"i":1})";
  std::string buffer = std::string(first) + "\n{\"i\":2} garbage ]]]}}}\"";
  buffer.append(simdjson::SIMDJSON_PADDING, '}');
  ASSERT_EQ(parser.parse(std::string_view(buffer.data(), first.size()), buffer.size(), out),
            ErrorReason::kNone);
  EXPECT_EQ(out[0].integer, 1);

  // A line cut in the middle of a value is malformed even if the bytes after it would finish it.
  const std::string_view cut = R"({"i":1)";
  EXPECT_EQ(parser.parse(std::string_view(buffer.data(), cut.size()), buffer.size(), out),
            ErrorReason::kInvalidJson);
}

// Without the promised padding the parser must refuse, not read past the buffer (ASan checks).
TEST(JsonEventParserPadded, TooLittlePaddingIsRefusedWithoutOverread) {
  JsonEventParser parser({"i"});
  std::array<config::FieldValue, 1> out;
  const std::string_view line = R"({"i":1})";
  const std::unique_ptr<char[]> exact(new char[line.size()]);
  std::memcpy(exact.get(), line.data(), line.size());
  EXPECT_EQ(parser.parse(std::string_view(exact.get(), line.size()), line.size(), out),
            ErrorReason::kInvalidJson);
}

TEST(JsonEventParserPadded, ParseCopyAndParseAgree) {
  const char* lines[] = {R"({"i":1,"s":"a\"b"})", R"({"i":1} x)", "[1]", R"({"i":tru})",
                         R"({"s":"\u00e9","i":-5})"};
  for (const char* line : lines) {
    SCOPED_TRACE(line);
    JsonEventParser a({"i", "s"});
    JsonEventParser b({"i", "s"});
    std::array<config::FieldValue, 2> out_a, out_b;
    std::string buffer(line);
    const std::size_t size = buffer.size();
    buffer.append(simdjson::SIMDJSON_PADDING, ' ');
    const ErrorReason ra = a.parseCopy(line, out_a);
    const ErrorReason rb = b.parse(std::string_view(buffer.data(), size), buffer.size(), out_b);
    ASSERT_EQ(ra, rb);
    if (ra != ErrorReason::kNone) continue;
    for (std::size_t i = 0; i < out_a.size(); ++i) {
      EXPECT_EQ(out_a[i].type, out_b[i].type);
      EXPECT_EQ(out_a[i].integer, out_b[i].integer);
      EXPECT_EQ(out_a[i].text, out_b[i].text);
    }
  }
}

}  // namespace
}  // namespace rivulet::connectors
