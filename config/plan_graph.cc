#include "config/plan_graph.h"

#include <algorithm>

namespace rivulet::config {

const PipelineConfig* findPipeline(const Config& config, std::string_view name) {
  const auto it = std::find_if(config.pipelines.begin(), config.pipelines.end(),
                               [&](const PipelineConfig& p) { return p.name == name; });
  return it == config.pipelines.end() ? nullptr : &*it;
}

bool isResultStream(const SourceConfig& source) {
  return source.time && source.time->field == kResultTimeField;
}

const PipelineConfig* upstreamOf(const Config& config, const PipelineConfig& pipeline) {
  if (pipeline.from.size() != 1) return nullptr;
  // A source of the same name is read instead (the loader resolves a name to a source first);
  // the stream withResultStreams() adds for the pipeline is not one.
  const bool source = std::any_of(config.sources.begin(), config.sources.end(), [&](const auto& s) {
    return s.name == pipeline.from[0] && !isResultStream(s);
  });
  return source ? nullptr : findPipeline(config, pipeline.from[0]);
}

bool isRead(const Config& config, const PipelineConfig& pipeline) {
  return std::any_of(config.pipelines.begin(), config.pipelines.end(),
                     [&](const PipelineConfig& p) { return upstreamOf(config, p) == &pipeline; });
}

std::vector<std::string> resultFields(const PipelineConfig& pipeline) {
  std::vector<std::string> fields;
  for (const GroupBySpec& part : pipeline.group_by) fields.push_back(part.name);
  for (const AggregateSpec& a : pipeline.aggregates) {
    if (!a.hidden && a.kind != AggregateKind::kTopK) fields.push_back(a.name);
  }
  for (const ComputedSpec& c : pipeline.computed) fields.push_back(c.name);
  fields.emplace_back("window_start");
  fields.emplace_back("window_end");
  return fields;
}

std::vector<int> pipelineTiers(const Config& config) {
  std::vector<int> tiers(config.pipelines.size(), 0);
  for (std::size_t p = 0; p < config.pipelines.size(); ++p) {
    // The chain up to a pipeline reading sources; at most every pipeline long without a cycle.
    const PipelineConfig* at = &config.pipelines[p];
    for (std::size_t steps = 0; steps < config.pipelines.size(); ++steps) {
      at = upstreamOf(config, *at);
      if (at == nullptr) break;
      ++tiers[p];
    }
  }
  return tiers;
}

Config withResultStreams(const Config& config) {
  Config out = config;
  if (std::any_of(config.sources.begin(), config.sources.end(), isResultStream)) return out;
  for (const PipelineConfig& pipeline : config.pipelines) {
    if (!isRead(config, pipeline)) continue;
    SourceConfig stream;
    stream.name = pipeline.name;
    stream.time = TimeSpec{std::string(kResultTimeField), TimeUnit::kNanos};
    out.sources.push_back(std::move(stream));
  }
  return out;
}

}  // namespace rivulet::config
