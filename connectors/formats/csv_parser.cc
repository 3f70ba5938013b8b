#include "connectors/formats/csv_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace rivulet::connectors {

using config::FieldType;
using config::FieldValue;
using pipeline::ErrorReason;

namespace {

bool isBlank(char c) noexcept { return c == ' ' || c == '\t'; }
bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

// What ends an unquoted field's run of ordinary bytes: a comma ends the field, a quote or a line
// break makes the row invalid.
enum ByteClass : unsigned char { kOrdinary, kComma, kQuote, kLineBreak };
constexpr std::array<unsigned char, 256> kByteClass = [] {
  std::array<unsigned char, 256> table{};
  table[','] = kComma;
  table['"'] = kQuote;
  table['\n'] = kLineBreak;
  table['\r'] = kLineBreak;
  return table;
}();

// Calls on_field(column, text, escaped) for each field of `row`, in order, until it returns
// false (then kWrongColumnCount: the row has more fields than wanted). `text` is the field
// without its blanks and quotes; `escaped` says it holds "" pairs. Sets `columns` to the number
// of fields; returns kNone or kInvalidCsv.
template <typename OnField>
ErrorReason forEachField(std::string_view row, OnField&& on_field, std::size_t& columns) noexcept {
  const char* p = row.data();
  const char* const end = p + row.size();
  for (std::size_t column = 0;; ++column) {
    while (p < end && isBlank(*p)) ++p;
    const char* begin = p;
    const char* stop = p;
    bool escaped = false;
    if (p < end && *p == '"') {
      begin = ++p;
      for (;;) {
        const auto* quote =
            static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (quote == nullptr) return ErrorReason::kInvalidCsv;  // unterminated
        if (quote + 1 < end && quote[1] == '"') {
          escaped = true;
          p = quote + 2;
          continue;
        }
        stop = quote;
        p = quote + 1;
        break;
      }
      while (p < end && isBlank(*p)) ++p;
      if (p < end && *p != ',') return ErrorReason::kInvalidCsv;  // text after the closing quote
    } else {
      while (p < end && kByteClass[static_cast<unsigned char>(*p)] == kOrdinary) ++p;
      if (p < end && *p != ',') return ErrorReason::kInvalidCsv;  // a quote or a line break
      stop = p;
      while (stop > begin && isBlank(stop[-1])) --stop;
    }
    columns = column + 1;
    if (!on_field(column, std::string_view(begin, static_cast<std::size_t>(stop - begin)),
                  escaped)) {
      return ErrorReason::kWrongColumnCount;
    }
    if (p == end) return ErrorReason::kNone;
    ++p;  // the comma: another field follows, empty if the row ends here
  }
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. `integer` is set when
// there is neither fraction nor exponent.
bool isJsonNumber(std::string_view s, bool& integer) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (isDigit(s[i])) {
    while (i < n && isDigit(s[i])) ++i;
  } else {
    return false;
  }
  integer = true;
  if (i < n && s[i] == '.') {
    ++i;
    if (i == n || !isDigit(s[i])) return false;
    while (i < n && isDigit(s[i])) ++i;
    integer = false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i == n || !isDigit(s[i])) return false;
    while (i < n && isDigit(s[i])) ++i;
    integer = false;
  }
  return i == n;
}

}  // namespace

void typeCsvValue(std::string_view text, config::FieldValue& value) noexcept {
  value = config::FieldValue{};
  if (text.empty()) {
    value.type = config::FieldType::kNull;
    return;
  }
  value.text = text;
  bool integer = false;
  const char* end = text.data() + text.size();
  if (isJsonNumber(text, integer)) {
    // An integer that fits 64 bits is read once: its double is the cast, rounded as parsing its
    // text would round it. Larger integers are read as doubles, as the JSON parser does.
    if (integer && std::from_chars(text.data(), end, value.integer).ec == std::errc()) {
      value.type = config::FieldType::kNumber;
      value.is_integer = true;
      value.number = static_cast<double>(value.integer);
      return;
    }
    // Out of range (1e400) is not a number a double holds: the field stays a string.
    const auto parsed = std::from_chars(text.data(), end, value.number);
    if (parsed.ec == std::errc() && parsed.ptr == end) {
      value.type = config::FieldType::kNumber;
      return;
    }
  }
  value.type = config::FieldType::kString;
}

CsvParser::CsvParser(std::vector<std::string> fields) : fields_(std::move(fields)) {}

CsvLayout CsvParser::layout(std::span<const std::string> columns) const {
  CsvLayout layout;
  layout.columns.assign(columns.begin(), columns.end());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const auto it = std::find(fields_.begin(), fields_.end(), columns[c]);
    int field = it == fields_.end() ? -1 : static_cast<int>(it - fields_.begin());
    // A name seen in an earlier column: that column has it.
    if (std::find(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(c), columns[c]) !=
        columns.begin() + static_cast<std::ptrdiff_t>(c)) {
      field = -1;
    }
    layout.field_of_column.push_back(field);
  }
  return layout;
}

std::string_view CsvParser::unescape(std::string_view quoted, std::size_t row_size,
                                     std::size_t& offset) {
  // Grown only before the row's first unescaped field, so that no earlier view moves; the row's
  // unescaped fields together are shorter than the row.
  if (offset == 0 && scratch_.size() < row_size) scratch_.resize(row_size);
  char* const begin = scratch_.data() + offset;
  char* out = begin;
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    *out++ = quoted[i];
    if (quoted[i] == '"') ++i;  // the second quote of a "" pair
  }
  offset += static_cast<std::size_t>(out - begin);
  return {begin, static_cast<std::size_t>(out - begin)};
}

ErrorReason CsvParser::parseHeader(std::string_view row, CsvLayout& layout) {
  std::vector<std::string> names;
  std::size_t columns = 0;
  std::size_t offset = 0;
  const ErrorReason reason = forEachField(
      row,
      [&](std::size_t, std::string_view text, bool escaped) {
        names.emplace_back(escaped ? unescape(text, row.size(), offset) : text);
        return true;
      },
      columns);
  layout = reason == ErrorReason::kNone ? this->layout(names) : CsvLayout{};
  return reason;
}

ErrorReason CsvParser::parse(std::string_view row, const CsvLayout& layout,
                             std::span<config::FieldValue> out) noexcept {
  for (config::FieldValue& f : out) f = config::FieldValue{};
  const std::vector<int>& field_of_column = layout.field_of_column;
  std::size_t columns = 0;
  std::size_t offset = 0;
  const ErrorReason reason = forEachField(
      row,
      [&](std::size_t column, std::string_view text, bool escaped) {
        if (column >= field_of_column.size()) return false;
        const int field = field_of_column[column];
        if (field >= 0) {
          typeCsvValue(escaped ? unescape(text, row.size(), offset) : text,
                       out[static_cast<std::size_t>(field)]);
        }
        return true;
      },
      columns);
  if (reason != ErrorReason::kNone) return reason;
  return columns == field_of_column.size() ? ErrorReason::kNone : ErrorReason::kWrongColumnCount;
}

}  // namespace rivulet::connectors
