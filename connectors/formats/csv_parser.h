// CsvParser: one CSV row (RFC 4180) into the FieldValues a source's pipelines need, without
// allocating per row.
//
// A row is one line (file, tcp) or one datagram or message (udp, zmq). Fields are separated by
// commas. A field may be quoted with double quotes; inside, "" stands for one quote, and commas
// and line breaks are ordinary characters. Spaces and tabs around a field, or around a quoted
// field's quotes, are not part of it. A value is typed by its content, quoted or not: a JSON
// number (12, -0.5, 1e6) is a number, an empty field is null, anything else is a string (true,
// 007, +5 and .5 are strings, so that a number's text is always valid JSON in results).
//
// Refused, with the reason: a quote inside an unquoted field, anything but blanks between a
// closing quote and the next comma, an unterminated quote, or a line break outside quotes
// (invalid_csv); more or fewer fields than the layout has columns (wrong_column_count). The
// whole row is checked, also the columns no pipeline reads; only the columns some field maps to
// are typed.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression/field_value.h"
#include "pipeline/model/error_reason.h"

namespace rivulet::connectors {

// Which of a parser's fields each column of a row fills.
struct CsvLayout {
  std::vector<int> field_of_column;  // index into the parser's fields; -1: no field needs it
  std::vector<std::string> columns;  // the names it was made from, to make it again for others
};

class CsvParser {
 public:
  // `fields`: the fields to extract (a SourcePlan's), in the order parse() fills them.
  explicit CsvParser(std::vector<std::string> fields);

  // The layout of rows whose columns are named `columns`. Of two columns with one name the first
  // counts.
  CsvLayout layout(std::span<const std::string> columns) const;

  // Reads a header row: each field names its column. kNone, or kInvalidCsv (layout then empty).
  pipeline::ErrorReason parseHeader(std::string_view row, CsvLayout& layout);

  // Parses `row` into out[i] for fields[i]: fields no column fills are kMissing. Views point into
  // `row` or the parser's own buffer and stay valid until the next parse.
  pipeline::ErrorReason parse(std::string_view row, const CsvLayout& layout,
                              std::span<config::FieldValue> out) noexcept;

 private:
  // A quoted field's text with each "" made one quote, in scratch_ at `offset` (the row's earlier
  // unescaped fields come before it).
  std::string_view unescape(std::string_view quoted, std::size_t row_size, std::size_t& offset);

  std::vector<std::string> fields_;
  // Unescaped quoted fields of the current row. Its size only grows, to the longest row that had
  // an escaped quote: a row's unescaped fields are never longer than the row.
  std::vector<char> scratch_;
};

// The value of one field's text, typed as documented above (for tests and tools too).
void typeCsvValue(std::string_view text, config::FieldValue& value) noexcept;

}  // namespace rivulet::connectors
