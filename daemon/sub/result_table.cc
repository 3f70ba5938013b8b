#include "daemon/sub/result_table.h"

#include <time.h>

#include <algorithm>
#include <cstdint>

namespace rivulet::daemon {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::string_view kHeader[] = {"WINDOW (UTC)", "PIPELINE", "KIND", "KEY", "VALUES"};
constexpr std::string_view kMarkerTopic = "_window/";
constexpr std::string_view kLateTopic = "_late/";

// Epoch milliseconds as ISO-8601 UTC, with milliseconds only when asked for.
std::string utcText(std::int64_t millis, bool with_millis) {
  const std::int64_t seconds = millis >= 0 ? millis / 1000 : -((999 - millis) / 1000);
  const time_t t = static_cast<time_t>(seconds);
  tm date{};
  gmtime_r(&t, &date);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &date);
  if (with_millis) {
    n += static_cast<std::size_t>(std::snprintf(text + n, sizeof text - n, ".%03d",
                                                static_cast<int>(millis - seconds * 1000)));
  }
  return std::string(text, n) + "Z";
}

std::string windowText(std::int64_t start, std::int64_t end) {
  const bool millis = start % 1000 != 0 || end % 1000 != 0;
  return utcText(start, millis) + ".." + utcText(end, millis);
}

// A string as it is when that reads unambiguously in "name=value" lists, else as JSON.
void appendString(std::string& out, std::string_view text, std::string_view json) {
  const bool plain = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\';
  });
  out += plain ? text : json;
}

// "name=value name=value" of a JSON object; values as the JSON text the daemon wrote.
std::string pairs(ondemand::object object) {
  std::string out;
  for (ondemand::field field : object) {
    if (!out.empty()) out += ' ';
    out += std::string_view(field.unescaped_key());
    out += '=';
    ondemand::value value = field.value();
    switch (value.type()) {
      case ondemand::json_type::string: {
        const std::string_view json = value.raw_json_token();
        appendString(out, value.get_string(), json.substr(0, json.find_last_of('"') + 1));
        break;
      }
      case ondemand::json_type::array: {
        ondemand::array array = value.get_array();
        out += std::string_view(array.raw_json());
        break;
      }
      case ondemand::json_type::object: {
        ondemand::object inner = value.get_object();
        out += std::string_view(inner.raw_json());
        break;
      }
      default: {
        const std::string_view token = value.raw_json_token();
        out += token.substr(0, token.find_last_not_of(" \t\r\n") + 1);
      }
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace

// A result ({"pipeline","seq","kind","start","end","key","values"}) or a marker ({"pipeline",
// "start","end","results"}); false if the payload is neither.
bool ResultTable::readResult(std::string_view payload, Row& row) {
  padded_.reserve(payload.size() + simdjson::SIMDJSON_PADDING);
  padded_.assign(payload);
  std::int64_t start = 0, end = 0;
  bool has_window = false;
  try {
    ondemand::document document =
        parser_.iterate(padded_.data(), padded_.size(), padded_.capacity());
    for (ondemand::field field : document.get_object()) {
      const std::string_view name = field.unescaped_key();
      ondemand::value value = field.value();
      if (name == "pipeline") {
        row.cells[1] = std::string_view(value.get_string());
      } else if (name == "kind") {
        row.cells[2] = std::string_view(value.get_string());
      } else if (name == "start") {
        start = value.get_int64();
        has_window = true;
      } else if (name == "end") {
        end = value.get_int64();
      } else if (name == "key") {
        row.cells[3] = pairs(value.get_object());
      } else if (name == "values") {
        row.cells[4] = pairs(value.get_object());
      } else if (name == "results") {
        row.cells[4] = "results=" + std::to_string(value.get_int64().value());
      }
    }
  } catch (const simdjson::simdjson_error&) {
    return false;
  }
  if (!has_window || row.cells[1].empty() || row.cells[4].empty()) return false;
  row.cells[0] = windowText(start, end);
  return true;
}

void ResultTable::print(std::string_view topic, std::string_view payload) {
  Row row;
  const bool late = topic.substr(0, kLateTopic.size()) == kLateTopic;
  if (late || !readResult(payload, row)) {
    // A late event is the raw event text: its pipeline is in the topic (_late/<pipeline>/).
    const std::string_view rest = topic.substr(late ? kLateTopic.size() : 0);
    printRow(Row{{std::string("-"), std::string(rest.substr(0, rest.find('/'))),
                  std::string(late ? "late" : "?"), std::string("-"), std::string(payload)}});
    return;
  }
  if (topic.substr(0, kMarkerTopic.size()) == kMarkerTopic) {
    row.cells[2].assign("end");
    row.cells[3].assign(1, '-');
  }
  printRow(row);
}

void ResultTable::printRow(const Row& row) {
  for (int c = 0; c + 1 < kColumns; ++c) widths_[c] = std::max(widths_[c], row.cells[c].size());
  if (!header_printed_) {
    Row header;
    for (int c = 0; c < kColumns; ++c) {
      header.cells[c] = kHeader[c];
      if (c + 1 < kColumns) widths_[c] = std::max(widths_[c], header.cells[c].size());
    }
    header_printed_ = true;
    printRow(header);
  }
  std::string line;
  for (int c = 0; c + 1 < kColumns; ++c) {
    line += row.cells[c];
    line.append(widths_[c] - row.cells[c].size() + 2, ' ');
  }
  line += row.cells[kColumns - 1];
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace rivulet::daemon
