#include "pipeline/plan.h"

#include <algorithm>
#include <cassert>
#include <numeric>

namespace rivulet::pipeline {

PipelinePlan compilePipeline(const config::Config& config, std::size_t index, std::size_t stages) {
  const config::PipelineConfig& pipeline = config.pipelines.at(index);
  PipelinePlan plan;
  plan.id = static_cast<std::uint16_t>(index);
  plan.name = pipeline.name;
  plan.group_by = pipeline.group_by;
  if (pipeline.window.kind == config::WindowKind::kSession) {
    plan.session = true;
    plan.gap = pipeline.window.size;
  } else {
    plan.size = pipeline.window.size;
    plan.slide =
        pipeline.window.kind == config::WindowKind::kTumbling ? plan.size : pipeline.window.slide;
    plan.slice = std::gcd(plan.size, plan.slide);
  }
  plan.allowed_lateness = pipeline.allowed_lateness;
  plan.emit_updates = pipeline.emit_updates;
  plan.late_topic = pipeline.late_topic;
  plan.fire_delay = pipeline.emit_updates ? 0 : pipeline.allowed_lateness;
  plan.aggregates = pipeline.aggregates;
  // max_keys bounds the keys of a slice, or the keys with a live session.
  if (pipeline.max_keys > 0) {
    const auto keys = static_cast<std::size_t>(pipeline.max_keys);
    plan.max_keys = (keys + stages - 1) / stages;
  }

  for (const config::AggregateSpec& aggregate : pipeline.aggregates) {
    if (aggregate.kind == config::AggregateKind::kCount) {
      plan.value_index.push_back(-1);
      continue;
    }
    auto it = std::find(plan.value_fields.begin(), plan.value_fields.end(), aggregate.field);
    if (it == plan.value_fields.end()) {
      it = plan.value_fields.insert(it, aggregate.field);
      plan.value_exprs.push_back(aggregate.argument);
    }
    plan.value_index.push_back(static_cast<int>(it - plan.value_fields.begin()));
  }

  for (const std::string& from : pipeline.from) {
    const auto it = std::find_if(config.sources.begin(), config.sources.end(),
                                 [&](const config::SourceConfig& s) { return s.name == from; });
    // A validated config names only known sources.
    assert(it != config.sources.end());
    if (it == config.sources.end()) continue;
    const int source = static_cast<int>(it - config.sources.begin());
    if (std::find(plan.sources.begin(), plan.sources.end(), source) == plan.sources.end()) {
      plan.sources.push_back(source);
    }
  }
  return plan;
}

}  // namespace rivulet::pipeline
