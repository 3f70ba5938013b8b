// Configs and plans built in code for the tests (plans.h).
#include "tests/support/plans.h"

#include <gtest/gtest.h>

#include <utility>

#include "config/loader.h"

namespace rivulet::testutil {

config::AggregateSpec aggregate(std::string name, config::AggregateKind kind, std::string field) {
  return config::AggregateSpec{std::move(name), kind, std::move(field)};
}

config::PipelineConfig pipelineConfig(std::string name, std::string from,
                                      std::vector<std::string> group_by,
                                      std::vector<config::AggregateSpec> aggregates) {
  config::PipelineConfig p;
  p.name = std::move(name);
  p.from = {std::move(from)};
  for (std::string& field : group_by) p.group_by.push_back({std::move(field)});
  p.window = config::WindowSpec{config::WindowKind::kTumbling, 1'000'000'000, 1'000'000'000};
  p.aggregates = std::move(aggregates);
  return p;
}

pipeline::SourcePlan planFor(const config::Config& config, std::size_t source) {
  std::vector<pipeline::PipelinePlan> plans;
  for (std::size_t i = 0; i < config.pipelines.size(); ++i)
    plans.push_back(pipeline::compilePipeline(config, i));
  return pipeline::planSource(config, source, plans);
}

config::SourceConfig msSource(std::string name, config::SourceKind kind) {
  config::SourceConfig source;
  source.name = std::move(name);
  source.kind = kind;
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  return source;
}

config::Config configWith(config::PipelineConfig pipeline) {
  config::Config config;
  config::SourceConfig source;
  source.name = "in";
  config.sources.push_back(source);
  config.pipelines.push_back(std::move(pipeline));
  return config;
}

config::Config configOf(const PlanSpec& spec) {
  config::PipelineConfig p;
  p.name = "p";
  p.from = {"in"};
  p.group_by = {config::GroupBySpec{"k"}};
  p.window = spec.window;
  p.allowed_lateness = spec.lateness;
  p.emit_updates = spec.updates;
  p.max_keys = spec.max_keys;
  p.aggregates = spec.aggregates;
  return configWith(std::move(p));
}

pipeline::PipelinePlan planOf(const PlanSpec& spec) {
  return pipeline::compilePipeline(configOf(spec), 0);
}

config::Config loadConfig(std::string_view yaml) {
  config::LoadResult loaded = config::loadString(yaml, "test.yaml");
  if (!loaded.config) {
    ADD_FAILURE() << loaded.errors.front().toString();
    return {};
  }
  return *loaded.config;
}

}  // namespace rivulet::testutil
