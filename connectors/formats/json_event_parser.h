// JsonEventParser: one JSON object per line into the FieldValues a source's pipelines need, with
// simdjson's on-demand parser (no DOM, no allocation per event).
//
// What counts as malformed: input that is not one JSON value, or has text after it (invalid_json);
// a value that is not an object (not_object); a syntax error anywhere in the object's own members
// (invalid_json). Nested objects and arrays that no pipeline reads, and the elements of a
// top-level array, are skipped with a structural check only, as on-demand parsing does: it counts
// brackets but not their kinds, so `{"x":[1,2}}` passes. Validating them fully would cost the
// speed that skipping buys, and nothing reads them.
#pragma once

#include <simdjson.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/expression/field_value.h"
#include "pipeline/model/error_reason.h"

namespace rivulet::connectors {

class JsonEventParser {
 public:
  // A field whose name holds config::kFieldPathSeparator is a path into nested objects, up to
  // kMaxDepth keys deep.
  explicit JsonEventParser(std::vector<std::string> fields);
  static constexpr std::size_t kMaxDepth = 8;

  // Parses `line`, which must be followed by at least simdjson::SIMDJSON_PADDING readable bytes
  // within `capacity` (bytes from line.data() that may be read). Fills out[i] for fields[i];
  // absent fields are kMissing. Views stay valid until the next parse.
  pipeline::ErrorReason parse(std::string_view line, std::size_t capacity,
                              std::span<config::FieldValue> out) noexcept;

  // The same, for input without padding guarantees (copies it first). For tests and tools.
  pipeline::ErrorReason parseCopy(std::string_view line, std::span<config::FieldValue> out);

 private:
  // The field at `path` + `key` (path: the keys of the enclosing objects), -1 if none; sets
  // `descend` when some field lies below it.
  int fieldOf(std::span<const std::string_view> path, std::string_view key,
              bool& descend) const noexcept;
  pipeline::ErrorReason parseObject(simdjson::ondemand::object& object,
                                    std::span<config::FieldValue> out, std::size_t depth) noexcept;

  std::vector<std::string> fields_;
  std::vector<std::vector<std::string>> segments_;  // fields_ split at the dots
  // The top-level keys: the first segment of every field, with the field it names (-1: none,
  // or the last of equal names, as the general search finds it) and whether a field lies below
  // it. Most events have only top-level fields; their keys are matched here by size, then bytes
  // (the general search compared every field's segments: ~100 instructions per key).
  struct TopKey {
    std::string name;
    int field;
    bool descend;
  };
  std::vector<TopKey> top_;
  std::string_view path_[kMaxDepth];  // keys of the objects being read
  simdjson::ondemand::parser parser_;
  std::string copy_;
};

}  // namespace rivulet::connectors
