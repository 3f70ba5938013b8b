// CsvParser: RFC 4180 quoting, blanks, typing by content, refusals with their reason, headers,
// no allocation per row; and a property test against a naive character-by-character splitter on
// random rows, well-formed and not.
#include "connectors/formats/csv_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/printers.h"
#include "tests/support/slowdown.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::connectors {
namespace {

using config::FieldType;
using config::FieldValue;
using pipeline::ErrorReason;

// A parser of fields {ts, sym, px} over rows with `columns`.
class Csv {
 public:
  explicit Csv(std::vector<std::string> columns = {"ts", "sym", "px"})
      : parser_({"ts", "sym", "px"}), layout_(parser_.layout(columns)), out_(3) {}

  ErrorReason parse(std::string_view row) { return parser_.parse(row, layout_, out_); }
  const config::FieldValue& operator[](std::size_t i) const { return out_[i]; }
  CsvParser& parser() { return parser_; }
  CsvLayout& layout() { return layout_; }

 private:
  CsvParser parser_;
  CsvLayout layout_;
  std::vector<config::FieldValue> out_;
};

void expectString(const config::FieldValue& f, std::string_view text) {
  EXPECT_EQ(f.type, config::FieldType::kString) << text;
  EXPECT_EQ(f.text, text);
}

void expectNumber(const config::FieldValue& f, double number, std::string_view text) {
  EXPECT_EQ(f.type, config::FieldType::kNumber) << text;
  EXPECT_EQ(f.number, number) << text;
  EXPECT_EQ(f.text, text);
}

TEST(CsvParser, PlainRowIsTypedByContent) {
  Csv csv;
  ASSERT_EQ(csv.parse("1700000000000,AAPL,187.25"), ErrorReason::kNone);
  expectNumber(csv[0], 1700000000000.0, "1700000000000");
  EXPECT_TRUE(csv[0].is_integer);
  EXPECT_EQ(csv[0].integer, 1700000000000);
  expectString(csv[1], "AAPL");
  expectNumber(csv[2], 187.25, "187.25");
  EXPECT_FALSE(csv[2].is_integer);
}

TEST(CsvParser, EmptyFieldsAreNullQuotedOrNot) {
  Csv csv;
  ASSERT_EQ(csv.parse(",\"\",  "), ErrorReason::kNone);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(csv[i].type, config::FieldType::kNull) << i;
}

TEST(CsvParser, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  Csv csv;
  ASSERT_EQ(csv.parse(R"(1,"a,b ""c""",2)"), ErrorReason::kNone);
  expectString(csv[1], R"(a,b "c")");
  ASSERT_EQ(csv.parse("1,\"two\nlines\r\n\",2"), ErrorReason::kNone);  // a datagram's row
  expectString(csv[1], "two\nlines\r\n");
  // Quoting does not make a number a string: writers that quote everything still give numbers.
  ASSERT_EQ(csv.parse(R"("1","x","2.5")"), ErrorReason::kNone);
  expectNumber(csv[0], 1, "1");
  expectNumber(csv[2], 2.5, "2.5");
}

TEST(CsvParser, BlanksAroundFieldsAndQuotesAreNotPartOfThem) {
  Csv csv;
  ASSERT_EQ(csv.parse(" 1 ,\t \"  padded  \" \t, 2.5\t"), ErrorReason::kNone);
  expectNumber(csv[0], 1, "1");
  expectString(csv[1], "  padded  ");  // inside the quotes, blanks are kept
  expectNumber(csv[2], 2.5, "2.5");
  ASSERT_EQ(csv.parse("1,inner space ,2"), ErrorReason::kNone);
  expectString(csv[1], "inner space");
}

TEST(CsvParser, SeveralEscapedFieldsInOneRowEachKeepTheirText) {
  Csv csv;
  for (int round = 0; round < 3; ++round) {  // the scratch buffer is reused across rows
    ASSERT_EQ(csv.parse(R"("""1""","a""b","""")"), ErrorReason::kNone);
    expectString(csv[0], "\"1\"");
    expectString(csv[1], "a\"b");
    expectString(csv[2], "\"");
  }
}

struct Typed {
  std::string text;
  bool number;
};

class CsvTyping : public ::testing::TestWithParam<Typed> {};

TEST_P(CsvTyping, ANumberIsExactlyAJsonNumber) {
  config::FieldValue f;
  typeCsvValue(GetParam().text, f);
  EXPECT_EQ(f.type, GetParam().number ? config::FieldType::kNumber : config::FieldType::kString);
  EXPECT_EQ(f.text, GetParam().text);
  if (GetParam().number) {
    EXPECT_EQ(f.number, std::strtod(GetParam().text.c_str(), nullptr));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Numbers, CsvTyping,
    ::testing::Values(Typed{"0", true}, Typed{"-0", true}, Typed{"12", true}, Typed{"-12.5", true},
                      Typed{"1e6", true}, Typed{"1E-3", true}, Typed{"2.5e+10", true},
                      Typed{"123456789012345678901234", true}, Typed{"007", false},
                      Typed{"+5", false}, Typed{".5", false}, Typed{"5.", false},
                      Typed{"1e", false}, Typed{"1.2.3", false}, Typed{"-", false},
                      Typed{"inf", false}, Typed{"nan", false}, Typed{"Infinity", false},
                      Typed{"0x10", false}, Typed{"1e400", false}, Typed{"true", false},
                      Typed{"12 34", false}, Typed{"12abc", false}));

TEST(CsvParser, IntegersBeyond64BitsAreDoublesOnly) {
  config::FieldValue f;
  typeCsvValue("9223372036854775807", f);
  EXPECT_TRUE(f.is_integer);
  EXPECT_EQ(f.integer, 9223372036854775807);
  typeCsvValue("9223372036854775808", f);
  EXPECT_EQ(f.type, config::FieldType::kNumber);
  EXPECT_FALSE(f.is_integer);
  EXPECT_EQ(f.number, 9223372036854775808.0);
  typeCsvValue("-12", f);
  EXPECT_TRUE(f.is_integer);
  EXPECT_EQ(f.integer, -12);
  typeCsvValue("12.0", f);
  EXPECT_FALSE(f.is_integer);
}

struct Bad {
  std::string row;
  ErrorReason reason;
};

class CsvMalformed : public ::testing::TestWithParam<Bad> {};

TEST_P(CsvMalformed, RefusedWithReason) {
  Csv csv;
  EXPECT_EQ(csv.parse(GetParam().row), GetParam().reason) << GetParam().row;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CsvMalformed,
    ::testing::Values(Bad{R"(1,a"b,2)", ErrorReason::kInvalidCsv},    // quote inside a field
                      Bad{R"(1,"ab"c,2)", ErrorReason::kInvalidCsv},  // text after the quote
                      Bad{R"(1,"ab,2)", ErrorReason::kInvalidCsv},    // unterminated
                      Bad{R"(1,"ab"")", ErrorReason::kInvalidCsv},    // "" is not the end
                      Bad{"1,a\rb,2", ErrorReason::kInvalidCsv},      // line break unquoted
                      Bad{"1,ab,2\n", ErrorReason::kInvalidCsv},      // (a line source strips it)
                      Bad{"1,AAPL", ErrorReason::kWrongColumnCount},  // too few
                      Bad{"1,AAPL,2,", ErrorReason::kWrongColumnCount},  // a trailing comma
                      Bad{"1,AAPL,2,3", ErrorReason::kWrongColumnCount},
                      Bad{"", ErrorReason::kWrongColumnCount},  // one empty field
                      // Too many fields is seen before the bad quote that follows them.
                      Bad{R"(1,AAPL,2,3,"x)", ErrorReason::kWrongColumnCount}));

TEST(CsvParser, OnlyMappedColumnsAreTypedButEveryColumnIsChecked) {
  Csv csv({"venue", "ts", "extra", "px", "sym"});
  ASSERT_EQ(csv.parse("XNAS,5,whatever,1.5,IBM"), ErrorReason::kNone);
  expectNumber(csv[0], 5, "5");
  expectString(csv[1], "IBM");
  expectNumber(csv[2], 1.5, "1.5");
  EXPECT_EQ(csv.parse(R"(XNAS,5,bad"quote,1.5,IBM)"), ErrorReason::kInvalidCsv);
}

TEST(CsvParser, FieldsNoColumnHasAreMissing) {
  Csv csv({"sym"});
  ASSERT_EQ(csv.parse("IBM"), ErrorReason::kNone);
  EXPECT_EQ(csv[0].type, config::FieldType::kMissing);
  expectString(csv[1], "IBM");
  EXPECT_EQ(csv[2].type, config::FieldType::kMissing);
}

TEST(CsvParser, HeaderNamesTheColumnsFirstOfTwoNamesWins) {
  Csv csv(std::vector<std::string>{});
  ASSERT_EQ(csv.parser().parseHeader(R"( px ,"s""ym",ts,px,"sym")", csv.layout()),
            ErrorReason::kNone);
  EXPECT_EQ(csv.layout().field_of_column, (std::vector<int>{2, -1, 0, -1, 1}));
  ASSERT_EQ(csv.parse("1.5,x,7,2.5,IBM"), ErrorReason::kNone);
  expectNumber(csv[0], 7, "7");
  expectString(csv[1], "IBM");
  expectNumber(csv[2], 1.5, "1.5");
  EXPECT_EQ(csv.parser().parseHeader(R"(ts,"sym)", csv.layout()), ErrorReason::kInvalidCsv);
  EXPECT_TRUE(csv.layout().field_of_column.empty());
}

TEST(CsvParser, RowsDoNotAllocateOnceWarm) {
  Csv csv;
  const std::vector<std::string> rows = {"1700000000000,AAPL,187.25",
                                         R"(1,"quoted ""sym""",2)",
                                         ",,",
                                         R"("1","a,b","3e5")",
                                         R"(1,a"b,2)",
                                         "1,2"};
  for (const std::string& row : rows) csv.parse(row);  // warm up
  const std::size_t before = testutil::allocations.load();
  for (int i = 0; i < 100; ++i) {
    for (const std::string& row : rows) csv.parse(row);
  }
  EXPECT_EQ(testutil::allocations.load() - before, 0u);
}

// ---- property: the parser against a naive splitter ----

// The fields of `row` by the documented rules, read one character at a time; `valid` false when
// the row is malformed (`fields` then holds those completed before the fault).
struct Split {
  std::vector<std::string> fields;
  bool valid = true;
};

Split referenceSplit(std::string_view row) {
  Split out;
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t i = 0;
  for (;;) {
    while (i < row.size() && blank(row[i])) ++i;
    std::string value;
    if (i < row.size() && row[i] == '"') {
      ++i;
      for (;;) {
        if (i >= row.size()) {
          out.valid = false;
          return out;
        }
        if (row[i] == '"') {
          if (i + 1 < row.size() && row[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += row[i++];
      }
      while (i < row.size() && blank(row[i])) ++i;
      if (i < row.size() && row[i] != ',') {
        out.valid = false;
        return out;
      }
    } else {
      while (i < row.size() && row[i] != ',') {
        if (row[i] == '"' || row[i] == '\r' || row[i] == '\n') {
          out.valid = false;
          return out;
        }
        value += row[i++];
      }
      while (!value.empty() && blank(value.back())) value.pop_back();
    }
    out.fields.push_back(value);
    if (i == row.size()) return out;
    ++i;
  }
}

// What the parser must answer for a row split as `split` with a layout of `columns` columns: a
// row with more fields than columns is refused as soon as the first extra field is read.
ErrorReason expectedReason(const Split& split, std::size_t columns) {
  if (split.fields.size() > columns) return ErrorReason::kWrongColumnCount;
  if (!split.valid) return ErrorReason::kInvalidCsv;
  return split.fields.size() == columns ? ErrorReason::kNone : ErrorReason::kWrongColumnCount;
}

// A value as the parser must type it, with a regex for JSON numbers (not the parser's code).
void expectTyped(const config::FieldValue& got, const std::string& text) {
  static const std::regex kJsonNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
  if (text.empty()) {
    EXPECT_EQ(got.type, config::FieldType::kNull);
  } else if (std::regex_match(text, kJsonNumber) &&
             std::isfinite(std::strtod(text.c_str(), nullptr))) {
    EXPECT_EQ(got.type, config::FieldType::kNumber) << text;
    EXPECT_EQ(got.number, std::strtod(text.c_str(), nullptr)) << text;
    EXPECT_EQ(got.text, text);
  } else {
    EXPECT_EQ(got.type, config::FieldType::kString) << text;
    EXPECT_EQ(got.text, text);
  }
}

// Random rows over an alphabet heavy in the characters that matter, and rows written from random
// values the way a CSV writer does (quoting when needed, blanks around fields): each parse agrees
// with the naive splitter on the outcome and on every value.
TEST(CsvParserProperty, AgreesWithANaiveSplitter) {
  std::mt19937_64 rng(20260101);
  const std::string alphabet = "ab1-.e,\"\" \t\n\r0,,9";
  const int rounds = 100'000 / RIVULET_TEST_SLOWDOWN;
  std::size_t valid_rows = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t columns = 1 + rng() % 5;
    std::vector<std::string> names;
    std::vector<std::string> fields;
    for (std::size_t c = 0; c < columns; ++c) {
      names.push_back("c" + std::to_string(c));
      if (rng() % 4 != 0) fields.push_back(names.back());  // some columns are not read
    }
    std::string row;
    if (round % 2 == 0) {
      const std::size_t length = rng() % 24;
      for (std::size_t i = 0; i < length; ++i) row += alphabet[rng() % alphabet.size()];
    } else {
      const std::size_t n = columns + (rng() % 8 == 0 ? rng() % 3 : 0) - (rng() % 8 == 0);
      for (std::size_t c = 0; c < n; ++c) {
        std::string value;
        const std::size_t length = rng() % 6;
        for (std::size_t i = 0; i < length; ++i) value += alphabet[rng() % alphabet.size()];
        if (rng() % 3 == 0) value = std::to_string(static_cast<int>(rng() % 2000) - 1000);
        const bool must_quote = value.find_first_of(",\"\r\n") != std::string::npos ||
                                (!value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                                                    value.back() == ' ' || value.back() == '\t'));
        if (c > 0) row += ',';
        if (rng() % 4 == 0) row += ' ';
        if (must_quote || rng() % 4 == 0) {
          row += '"';
          for (const char ch : value) row += ch == '"' ? std::string("\"\"") : std::string(1, ch);
          row += '"';
        } else {
          row += value;
        }
        if (rng() % 4 == 0) row += '\t';
      }
    }
    CsvParser parser(fields);
    const CsvLayout layout = parser.layout(names);
    std::vector<config::FieldValue> out(fields.size());
    const ErrorReason got = parser.parse(row, layout, out);
    const Split split = referenceSplit(row);
    const ErrorReason want = expectedReason(split, columns);
    ASSERT_EQ(got, want) << "row [" << row << "] with " << columns << " columns";
    if (want != ErrorReason::kNone) continue;
    ++valid_rows;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      const std::size_t column = static_cast<std::size_t>(std::stoi(fields[f].substr(1)));
      SCOPED_TRACE("row [" + row + "] column " + std::to_string(column));
      expectTyped(out[f], split.fields[column]);
    }
  }
  EXPECT_GT(valid_rows, static_cast<std::size_t>(rounds) / 4) << "too few rows exercised values";
}

}  // namespace
}  // namespace rivulet::connectors
