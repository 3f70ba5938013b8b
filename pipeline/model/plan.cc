#include "pipeline/model/plan.h"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "config/plan_graph.h"

namespace rivulet::pipeline {
namespace {

ValueForm formOf(config::AggregateKind kind) {
  switch (kind) {
    case config::AggregateKind::kCountDistinct:
      return ValueForm::kDistinctHash;
    case config::AggregateKind::kTopK:
      return ValueForm::kItem;
    default:
      return ValueForm::kNumber;
  }
}

}  // namespace

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
  plan.computed = pipeline.computed;
  plan.having = pipeline.having;
  plan.top = pipeline.top;
  // max_keys bounds the keys of a slice, or the keys with a live session.
  if (pipeline.max_keys > 0) {
    const auto keys = static_cast<std::size_t>(pipeline.max_keys);
    plan.max_keys = (keys + stages - 1) / stages;
  }

  // Number values first, then count_distinct and top_k arguments: the router's loop over the
  // numbers stays as it was for pipelines without the others.
  plan.value_index.assign(pipeline.aggregates.size(), -1);
  for (const bool numbers : {true, false}) {
    for (std::size_t k = 0; k < pipeline.aggregates.size(); ++k) {
      const config::AggregateSpec& aggregate = pipeline.aggregates[k];
      const ValueForm form = formOf(aggregate.kind);
      if (aggregate.kind == config::AggregateKind::kCount ||
          (form == ValueForm::kNumber) != numbers) {
        continue;
      }
      std::size_t v = 0;
      while (v < plan.value_fields.size() &&
             (plan.value_fields[v] != aggregate.field || plan.value_forms[v] != form)) {
        ++v;
      }
      if (v == plan.value_fields.size()) {
        plan.value_fields.push_back(aggregate.field);
        plan.value_forms.push_back(form);
        plan.value_exprs.push_back(aggregate.argument);
      }
      plan.value_index[k] = static_cast<int>(v);
    }
  }

  // Sources by their index; a pipeline read by its results' stream, after the sources
  // (config::withResultStreams), whether `config` lists those streams already or not.
  const config::Config streams = config::withResultStreams(config);
  for (const std::string& from : pipeline.from) {
    const auto it = std::find_if(streams.sources.begin(), streams.sources.end(),
                                 [&](const config::SourceConfig& s) { return s.name == from; });
    // A validated config names only known sources and pipelines.
    assert(it != streams.sources.end());
    if (it == streams.sources.end()) continue;
    const int source = static_cast<int>(it - streams.sources.begin());
    if (std::find(plan.sources.begin(), plan.sources.end(), source) == plan.sources.end()) {
      plan.sources.push_back(source);
    }
  }
  plan.tier = config::pipelineTiers(config)[index];
  if (pipeline.join) {
    JoinPlan& join = plan.join.emplace();
    join.left_outer = pipeline.join->left_outer;
    join.key_parts = pipeline.join->left.key.size();
    for (const config::GroupBySpec& f : pipeline.join->left.fields)
      join.left_fields.push_back(f.name);
    for (const config::GroupBySpec& f : pipeline.join->right.fields) {
      join.right_fields.push_back(f.name);
    }
    // The side, a constant of each side's route (planSource).
    plan.value_fields = {"\x1eside"};
    plan.value_forms = {ValueForm::kNumber};
    plan.value_exprs = {std::nullopt};
  }
  plan.publish = pipeline.publish;
  plan.read = config::isRead(config, pipeline);
  return plan;
}

}  // namespace rivulet::pipeline
