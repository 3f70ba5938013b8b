// PipelinePlan: a pipeline compiled from its config for the hot path — ids instead of names,
// aggregate arguments resolved to positions in the event record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/model/value_slot.h"

namespace rivulet::pipeline {

// A window join (config::JoinSpec) as its operator needs it. A join event's record carries one
// value, its side (0 left, 1 right), and a key of the join key's parts followed by the side's
// fields as further key parts (null allowed there).
struct JoinPlan {
  bool left_outer = false;
  std::size_t key_parts = 0;
  std::vector<std::string> left_fields, right_fields;  // names of the results' values
};

struct PipelinePlan {
  std::uint16_t id = 0;  // index in the engine's pipeline list
  std::string name;
  // The key's parts: fields, and expressions under their names.
  std::vector<config::GroupBySpec> group_by;
  // Session windows (per key, closed by `gap` without events) instead of tumbling or hopping.
  bool session = false;
  std::int64_t gap = 0;    // session windows, ns
  std::int64_t size = 0;   // window size, ns (0 for session windows)
  std::int64_t slide = 0;  // == size for tumbling windows
  std::int64_t slice = 0;  // gcd(size, slide): the unit of state (a pane)
  std::int64_t allowed_lateness = 0;
  // How long after its end a window fires: allowed_lateness with emit final (one message with
  // every event in time); 0 with emit updates (a final message at the end, then an update per
  // late event until end + allowed_lateness).
  std::int64_t fire_delay = 0;
  bool emit_updates = false;
  bool late_topic = false;  // late events go out on _late/<name>/ with their raw text
  std::vector<config::AggregateSpec> aggregates;  // hidden ones last
  // Values computed from the aggregates, and the filter on results (ComputedValues).
  std::vector<config::ComputedSpec> computed;
  std::optional<config::Expression> having;
  std::optional<config::TopSpec> top;  // the publisher ranks each window's results
  // Per aggregate: index of its argument among the event record's values, -1 for count().
  std::vector<int> value_index;
  // Distinct value fields carried by each event record of this pipeline, and the form of each:
  // a field read by count_distinct or top_k travels in another form than for the other
  // aggregates, so it may be listed once per form. The kNumber values come first.
  std::vector<std::string> value_fields;
  std::vector<ValueForm> value_forms;
  // Per value field: the expression computing it, when it is not a plain field (value_fields
  // then holds the expression's canonical text).
  std::vector<std::optional<config::Expression>> value_exprs;
  // Indices of the sources it reads, or of the one pipeline's results stream, after the sources
  // (config::withResultStreams).
  std::vector<int> sources;
  // Which tier of stages runs it: 0 for pipelines reading sources, the upstream's + 1 for the
  // others (config::pipelineTiers).
  int tier = 0;
  bool publish = true;  // publish: false: results go only to the pipelines reading it
  bool read = false;    // some pipeline reads its results
  std::optional<JoinPlan> join;
  // The most keys a slice may hold in one stage (config max_keys spread over the stages, since
  // keys are spread over them by hash); 0: no bound.
  std::size_t max_keys = 0;
};

// Compiles config.pipelines[i] (id = i) against the config's source order, for `stages` stages.
PipelinePlan compilePipeline(const config::Config& config, std::size_t index,
                             std::size_t stages = 1);

}  // namespace rivulet::pipeline
