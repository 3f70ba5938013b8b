#include "config/plan_graph.h"

#include <algorithm>
#include <functional>

#include "config/sections.h"

namespace rivulet::config {

const PipelineConfig* findPipeline(const Config& config, std::string_view name) {
  const auto it = std::find_if(config.pipelines.begin(), config.pipelines.end(),
                               [&](const PipelineConfig& p) { return p.name == name; });
  return it == config.pipelines.end() ? nullptr : &*it;
}

bool isResultStream(const SourceConfig& source) {
  return source.time && source.time->field == kResultTimeField;
}

std::vector<const PipelineConfig*> upstreamsOf(const Config& config,
                                               const PipelineConfig& pipeline) {
  std::vector<const PipelineConfig*> upstreams;
  for (const std::string& name : pipeline.from) {
    // A source of the same name is read instead (the loader resolves a name to a source first);
    // the stream withResultStreams() adds for the pipeline is not one.
    const bool source =
        std::any_of(config.sources.begin(), config.sources.end(),
                    [&](const auto& s) { return s.name == name && !isResultStream(s); });
    const PipelineConfig* upstream = source ? nullptr : findPipeline(config, name);
    if (upstream != nullptr) upstreams.push_back(upstream);
  }
  return upstreams;
}

bool isRead(const Config& config, const PipelineConfig& pipeline) {
  return std::any_of(config.pipelines.begin(), config.pipelines.end(), [&](const auto& p) {
    const auto upstreams = upstreamsOf(config, p);
    return std::find(upstreams.begin(), upstreams.end(), &pipeline) != upstreams.end();
  });
}

std::vector<std::string> resultFields(const PipelineConfig& pipeline) {
  std::vector<std::string> fields;
  for (const GroupBySpec& part : pipeline.group_by) fields.push_back(part.name);
  if (pipeline.join) {
    for (const JoinSide* side : {&pipeline.join->left, &pipeline.join->right}) {
      for (const GroupBySpec& field : side->fields) fields.push_back(field.name);
    }
  }
  for (const AggregateSpec& a : pipeline.aggregates) {
    if (!a.hidden && a.kind != AggregateKind::kTopK) fields.push_back(a.name);
  }
  for (const ComputedSpec& c : pipeline.computed) fields.push_back(c.name);
  fields.emplace_back("window_start");
  fields.emplace_back("window_end");
  return fields;
}

std::vector<int> pipelineTiers(const Config& config) {
  std::vector<int> tiers(config.pipelines.size(), -1);
  // One more than the highest upstream's; at most every pipeline deep without a cycle.
  const std::function<int(const PipelineConfig&, std::size_t)> tierOf =
      [&](const PipelineConfig& pipeline, std::size_t depth) {
        int tier = 0;
        if (depth > config.pipelines.size()) return tier;
        for (const PipelineConfig* upstream : upstreamsOf(config, pipeline)) {
          tier = std::max(tier, 1 + tierOf(*upstream, depth + 1));
        }
        return tier;
      };
  for (std::size_t p = 0; p < config.pipelines.size(); ++p) {
    tiers[p] = tierOf(config.pipelines[p], 0);
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

// Declared in config/sections.h, beside the other readers' tables.
SourceInfo resultsOf(const PipelineConfig& pipeline) {
  SourceInfo info;
  info.name = pipeline.name;
  info.results = true;
  info.result_fields = resultFields(pipeline);
  info.result_slide = pipeline.window.slide;
  // Values are numbers (counts integers); keys and window bounds are what they are.
  for (const AggregateSpec& a : pipeline.aggregates) {
    if (a.hidden || a.kind == AggregateKind::kTopK) continue;
    const bool count = a.kind == AggregateKind::kCount || a.kind == AggregateKind::kCountIf ||
                       a.kind == AggregateKind::kCountDistinct;
    info.fields.push_back(
        DeclaredField{FieldPath{{a.name}}, count ? FieldKind::kInteger : FieldKind::kNumber});
  }
  for (const char* bound : {"window_start", "window_end"}) {
    info.fields.push_back(DeclaredField{FieldPath{{bound}}, FieldKind::kInteger});
  }
  if (pipeline.window.kind == WindowKind::kSession) {
    info.unreadable =
        "its session windows end at each key's own time (read a tumbling or "
        "hopping pipeline)";
  } else if (pipeline.top) {
    info.unreadable =
        "the publisher ranks its results (top:) after every stage has fired the "
        "window; read the pipeline it ranks";
  }
  return info;
}

}  // namespace rivulet::config
