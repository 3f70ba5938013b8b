// Configs and plans built in code for the tests: a pipeline from its parts, a one-pipeline plan
// from a window spec, the plan of a source as the engine compiles it, and a config from YAML.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/event_router.h"
#include "pipeline/model/plan.h"

namespace rivulet::testutil {

inline constexpr std::int64_t kMs = 1'000'000;  // ns per ms

config::AggregateSpec aggregate(std::string name, config::AggregateKind kind,
                                std::string field = "");

// A pipeline `name` over source `from`, grouped by `group_by`, in 1 s tumbling windows.
config::PipelineConfig pipelineConfig(std::string name, std::string from,
                                      std::vector<std::string> group_by,
                                      std::vector<config::AggregateSpec> aggregates);

// The plan of source `source` of `config`, with every pipeline compiled as the engine does.
pipeline::SourcePlan planFor(const config::Config& config, std::size_t source = 0);

// Source `name` of `kind`, its events' time in field "ts" in milliseconds.
config::SourceConfig msSource(std::string name,
                              config::SourceKind kind = config::SourceKind::kGenerator);

// A config of source "in" and `pipeline`.
config::Config configWith(config::PipelineConfig pipeline);

// Pipeline "p" over source "in", grouped by field "k": what the operator tests vary.
struct PlanSpec {
  config::WindowSpec window;
  config::Nanos lateness = 0;
  bool updates = false;
  std::int64_t max_keys = 0;
  std::vector<config::AggregateSpec> aggregates = {{"n", config::AggregateKind::kCount, ""},
                                                   {"sum", config::AggregateKind::kSum, "v"}};
};
config::Config configOf(const PlanSpec& spec);
pipeline::PipelinePlan planOf(const PlanSpec& spec);

// The config of a YAML text that must load; a test failure (and an empty config) if it does not.
config::Config loadConfig(std::string_view yaml);

}  // namespace rivulet::testutil
