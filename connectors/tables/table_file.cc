#include "connectors/tables/table_file.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/text/message_text.h"
#include "connectors/formats/csv_parser.h"
#include "connectors/formats/json_event_parser.h"

namespace rivulet::connectors {
namespace {

// The columns read: the key first, then the lookups' (each once).
std::vector<std::string> columnsOf(const config::TableSpec& spec) {
  std::vector<std::string> columns{spec.key};
  for (const std::string& c : spec.columns) {
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
  }
  return columns;
}

// The config's location naming `column` (the key's is the table's path).
std::string whereNamed(const config::TableSpec& spec, const std::string& column) {
  const auto it = std::find(spec.columns.begin(), spec.columns.end(), column);
  if (it == spec.columns.end() || spec.columns_at.empty()) return spec.at;
  return spec.columns_at[static_cast<std::size_t>(it - spec.columns.begin())];
}

std::string noColumn(const config::TableSpec& spec, const std::string& column,
                     const std::string& has) {
  return whereNamed(spec, column) + ": table " + config::quote(spec.name) + " (" + spec.path +
         ") has no column " + config::quote(column) + (has.empty() ? "" : " (it has " + has + ")");
}

// Calls `row(number, text)` for each non-blank line (without its line break); stops at false.
template <typename Row>
void forEachLine(std::string_view text, Row&& row) {
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!row(number, line, text.size())) return;
  }
}

}  // namespace

TableRead readTable(const config::TableSpec& spec) {
  TableRead read;
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) {
    read.error =
        spec.at + ": cannot read " + config::quote(spec.path) + ": " + std::strerror(errno);
    return read;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  // Padded for the JSON parser, which may read past a line's end.
  std::string text = std::move(buffer).str();
  const std::size_t size = text.size();
  text.append(simdjson::SIMDJSON_PADDING, ' ');
  const std::string_view content(text.data(), size);

  const std::vector<std::string> columns = columnsOf(spec);
  auto table = std::make_shared<pipeline::LookupTable>(columns, 0);
  std::vector<config::FieldValue> values(columns.size());
  const auto bad = [&](std::size_t line, std::string_view why) {
    read.error = spec.path + ":" + std::to_string(line) + ": " + std::string(why);
    return false;
  };
  const auto add = [&](std::size_t line) {
    if (!table->addRow(values)) {
      return bad(line, "the key " + config::quote(spec.key) + " is null or missing");
    }
    return true;
  };
  if (spec.format == config::Format::kCsv) {
    CsvParser parser(columns);
    CsvLayout layout;
    bool header = true;
    forEachLine(content, [&](std::size_t line, std::string_view row, std::size_t) {
      if (header) {
        header = false;
        if (parser.parseHeader(row, layout) != pipeline::ErrorReason::kNone) {
          return bad(line, "the header is not a CSV row");
        }
        for (std::size_t c = 0; c < columns.size(); ++c) {
          if (std::find(layout.field_of_column.begin(), layout.field_of_column.end(),
                        static_cast<int>(c)) == layout.field_of_column.end()) {
            const std::vector<std::string_view> names(layout.columns.begin(), layout.columns.end());
            read.error = noColumn(spec, columns[c], config::joinComma(names));
            return false;
          }
        }
        return true;
      }
      const pipeline::ErrorReason reason = parser.parse(row, layout, values);
      if (reason != pipeline::ErrorReason::kNone) return bad(line, pipeline::reasonName(reason));
      return add(line);
    });
    if (header && read.error.empty()) read.error = spec.path + ": empty (no header line)";
  } else {
    JsonEventParser parser(columns);
    std::vector<bool> seen(columns.size(), false);
    forEachLine(content, [&](std::size_t line, std::string_view row, std::size_t rest) {
      const std::size_t capacity = row.size() + rest + simdjson::SIMDJSON_PADDING;
      const pipeline::ErrorReason reason = parser.parse(row, capacity, values);
      if (reason != pipeline::ErrorReason::kNone) return bad(line, pipeline::reasonName(reason));
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (values[c].type != config::FieldType::kMissing) seen[c] = true;
      }
      return add(line);
    });
    for (std::size_t c = 1; c < columns.size() && read.error.empty(); ++c) {
      if (!seen[c] && table->rows() > 0) read.error = noColumn(spec, columns[c], "");
    }
  }
  if (!read.error.empty()) return read;
  table->seal();
  read.table = std::move(table);
  return read;
}

}  // namespace rivulet::connectors
