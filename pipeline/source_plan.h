// SourcePlan: what the pipelines reading one source need from each of its events (the fields to
// extract, the time field, and per pipeline its key, values, where and window geometry), made
// once from the config for the source's EventRouter; and the conversion of event time.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/expression/field_value.h"
#include "pipeline/model/event_time.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/stats.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/tables/lookup_table.h"

namespace rivulet::pipeline {

// What the pipelines reading one source need from each of its events.
struct SourcePlan {
  std::vector<std::string> fields;  // the fields a parser must extract, each once
  int time_field = -1;              // index into fields; -1: processing time
  config::TimeUnit time_unit = config::TimeUnit::kMillis;
  config::WatermarkSpec watermark;
  // What route() does when a ring an event goes to is full: wait, or drop the event whole.
  config::Overflow overflow = config::Overflow::kBlock;
  // The fields `fields:` declares (index into fields, type): a source refuses an event whose value
  // of one has another type (connectors/formats/event_decoder.h).
  std::vector<std::pair<int, config::FieldKind>> declared;
  // The group-by parts of every route that are expressions (over `fields`), computed per event.
  std::vector<config::Expression> key_exprs;
  // The lookups of the pipelines reading the source (`lookup:`), each once however many
  // pipelines make it, in an order where a lookup's key reads only earlier ones' fields. The
  // router fills their fields before anything else reads the event; a parser does not find them
  // (their names start with kLookupFieldMark).
  struct Lookup {
    std::size_t table = 0;  // index into Config::tables
    config::Expression key;
    std::vector<std::string> columns;  // the table's columns it reads
    std::vector<int> outputs;          // per column: its field, an index into fields
    // Set by the engine: the table, and where the source's misses of it are counted. Without a
    // store every key misses; without a counter the router counts on its own.
    std::shared_ptr<TableStore> store;
    Counter* misses = nullptr;
  };
  std::vector<Lookup> lookups;
  struct Route {
    std::uint16_t pipeline = 0;
    // The lookups with missing: refuse whose miss this pipeline refuses the event for.
    std::vector<std::size_t> refusing_lookups;
    // The key parts (bit k: part k) that may be null: lookup fields, null when the key missed.
    std::uint64_t nullable_parts = 0;
    std::vector<int> key_fields;  // per group_by part: index into fields, or ~i: key_exprs[i]
    // The key parts that pick the stage and may not be null: all of them, but for a join's side,
    // whose fields follow its join key as further parts.
    std::size_t hashed_parts = 0;
    bool computed_key = false;      // some part is an expression
    std::vector<int> value_fields;  // indices into fields; -1: computed by value_exprs
    std::vector<std::optional<config::Expression>> value_exprs;  // parallel to value_fields
    std::vector<ValueForm> value_forms;                          // parallel to value_fields
    // value_fields[0, numbers) are numbers; the rest, count_distinct and top_k arguments.
    std::size_t numbers = 0;
    // The window geometry (ns): where the watermark changes what the stage does with the
    // pipeline's windows (see EventRouter::route), and, with late: { topic: true }, which events
    // may be late: those carry their raw text for the stage to publish if they are. A session
    // pipeline is, as far as lateness goes, windows of size gap and slide 1 ns.
    bool session = false;
    bool late_topic = false;
    std::int64_t size = 0, slide = 0, allowed_lateness = 0, fire_delay = 0;
    // where: events it is not true for skip this pipeline; its fields are among `fields`.
    std::optional<config::Expression> where;
    // Where the events this pipeline refuses are counted (the engine's, shared with the metrics);
    // null: the router keeps counters of its own (routeStats()).
    PipelineSourceStats* stats = nullptr;
  };
  std::vector<Route> routes;
};

// The first byte of a lookup field's name in a SourcePlan (no event's field starts with it).
inline constexpr char kLookupFieldMark = '\x1e';

// The name of an expression's field in a SourcePlan's field list (kFieldPathSeparator).
std::string fieldName(const config::FieldPath& path);

SourcePlan planSource(const config::Config& config, std::size_t source,
                      std::span<const PipelinePlan> pipelines);

inline std::int64_t nanosPerUnit(config::TimeUnit unit) noexcept {
  switch (unit) {
    case config::TimeUnit::kSeconds:
      return 1'000'000'000;
    case config::TimeUnit::kMillis:
      return 1'000'000;
    case config::TimeUnit::kMicros:
      return 1'000;
    case config::TimeUnit::kNanos:
    case config::TimeUnit::kIso8601:  // text, read by toNanos without a scale
      return 1;
  }
  return 1;
}

// Converts a time field to nanoseconds; false if it is not a number (kIso8601: a timestamp string,
// parseIso8601) or out of range. Inline: the router calls it for every event.
inline bool toNanos(const config::FieldValue& field, config::TimeUnit unit,
                    std::int64_t& nanos) noexcept {
  if (unit == config::TimeUnit::kIso8601) {
    return field.type == config::FieldType::kString && parseIso8601(field.text, nanos);
  }
  if (field.type != config::FieldType::kNumber) return false;
  const std::int64_t scale = nanosPerUnit(unit);
  if (field.is_integer) return !__builtin_mul_overflow(field.integer, scale, &nanos);
  const double scaled = std::round(field.number * static_cast<double>(scale));
  // 2^63 is exactly representable; anything at or past it does not fit.
  if (!(std::fabs(scaled) < 9.2233720368547758e18)) return false;
  nanos = static_cast<std::int64_t>(scaled);
  return true;
}

}  // namespace rivulet::pipeline
