// EventDecoder: the common tail of the sources that read text — decode a line, datagram or
// message in the source's format (JSON or CSV), route the event, count what was refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "connectors/formats/csv_parser.h"
#include "connectors/formats/json_event_parser.h"
#include "pipeline/event_router.h"

namespace rivulet::connectors {

class EventDecoder {
 public:
  // What is kept per input stream (a file, a tcp connection): for csv with `header: true`, whether
  // its header line was read and the columns it named.
  struct Stream {
    bool header_read = false;
    CsvLayout layout;
    std::uint64_t generation = 0;  // the router's plan generation `layout` was made for
  };

  // One decoder per source thread; `spec` gives the format.
  EventDecoder(pipeline::EventRouter& router, const config::SourceConfig& spec);

  // One line of `stream`, without its line break. `capacity` is how many bytes from text.data()
  // may be read: at least text.size() + simdjson::SIMDJSON_PADDING.
  void line(Stream& stream, std::string_view text, std::size_t capacity,
            std::int64_t now) noexcept {
    if (generation_ != router_.generation()) [[unlikely]]
      replan();
    if (csv_ && header_ && !stream.header_read) {
      readHeader(stream, text);
      return;
    }
    if (stream.generation != generation_ && csv_ && !columns_from_config_) [[unlikely]] {
      stream.layout = csv_->layout(stream.layout.columns);
      stream.generation = generation_;
    }
    decode(text, capacity, columns_from_config_ ? columns_ : stream.layout, now);
  }

  // One datagram or message: one event. A csv row's trailing line break is not part of it.
  // Returns why the event was refused (already counted), or kNone.
  pipeline::ErrorReason message(std::string_view text, std::size_t capacity,
                                std::int64_t now) noexcept {
    if (generation_ != router_.generation()) [[unlikely]]
      replan();
    if (csv_) {
      if (text.ends_with('\n')) text.remove_suffix(1);
      if (text.ends_with('\r')) text.remove_suffix(1);
    }
    return decode(text, capacity, columns_, now);
  }

  // Counts an event the source refused before decoding it (an over-long line, a truncated
  // datagram).
  void refuse(pipeline::ErrorReason reason) noexcept { router_.refuse(reason); }

 private:
  pipeline::ErrorReason decode(std::string_view text, std::size_t capacity, const CsvLayout& layout,
                               std::int64_t now) noexcept {
    pipeline::ErrorReason reason =
        csv_ ? csv_->parse(text, layout, fields_) : json_->parse(text, capacity, fields_);
    if (reason == pipeline::ErrorReason::kNone && !declared_.empty() && !haveDeclaredTypes()) {
      reason = pipeline::ErrorReason::kWrongType;
    }
    if (reason != pipeline::ErrorReason::kNone) {
      router_.refuse(reason, text);
      return reason;
    }
    return router_.route(fields_.data(), now, text);
  }
  // Whether every declared field is null, missing or of its declared type. CSV values are typed
  // by their text, so there a declared string takes any value as its text, and a declared bool
  // the texts true and false.
  bool haveDeclaredTypes() noexcept;
  // The stream's first line: it names the columns, or is skipped when the config names them. A
  // malformed header is counted as invalid_csv and the next line is read as the header.
  void readHeader(Stream& stream, std::string_view text);
  // The router's plan changed (a live reload): the parser extracts its fields from now on.
  [[gnu::cold]] void replan();

  pipeline::EventRouter& router_;
  std::uint64_t generation_;             // the router's plan generation the parser was made for
  std::optional<JsonEventParser> json_;  // format json
  std::optional<CsvParser> csv_;         // format csv
  bool header_ = false;                  // csv: each stream starts with a header line
  bool columns_from_config_ = false;     // csv: `columns` given, so headers are only skipped
  CsvLayout columns_;                    // the layout `columns` gives
  std::vector<config::FieldValue> fields_;
  std::vector<std::pair<int, config::FieldKind>> declared_;  // the router's plan's
};

}  // namespace rivulet::connectors
