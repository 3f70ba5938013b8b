// The plan a config's pipelines make when some read others (`from:` naming a pipeline): which
// pipelines are read, what a pipeline's results look like as events, and the tier each runs in.
// Rings only go from a tier to the next, so a plan of tiers has no cycle of waits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rivulet::config {

// The field of a result event that holds its event time: its window's end - 1 ns, in ns. No
// expression can spell it.
inline constexpr std::string_view kResultTimeField =
    "\x1e"
    "time";

// The pipeline of `config` named `name`, or null.
const PipelineConfig* findPipeline(const Config& config, std::string_view name);

// Whether `source` is a pipeline's results stream, added by withResultStreams().
bool isResultStream(const SourceConfig& source);

// The pipelines `pipeline` reads: none when it reads sources; one; or a join's two, of one tier.
std::vector<const PipelineConfig*> upstreamsOf(const Config& config,
                                               const PipelineConfig& pipeline);

// Whether some pipeline of `config` reads `pipeline`.
bool isRead(const Config& config, const PipelineConfig& pipeline);

// The fields of `pipeline`'s results as events of a pipeline reading it, in this order: its
// group_by parts (a join's: its left key), its aggregates (not hidden ones, nor top_k, whose items
// no expression reads) and computed values (a join's: its left fields, then its right fields),
// then window_start and window_end (ms, as in its results).
std::vector<std::string> resultFields(const PipelineConfig& pipeline);

// The tier of each pipeline, in config order: 0 for those reading sources, one more than its
// upstream's for the others. `config` has no cycle (the loader refuses one).
std::vector<int> pipelineTiers(const Config& config);

// `config` with each pipeline another reads added to its sources, after the real ones, as the
// stream of its results (same name; time kResultTimeField in ns; no watermark delay: the upstream
// stage sends the watermark its window completion gives). A plan's source indices are into this
// list. A config that has them already is returned as it is.
Config withResultStreams(const Config& config);

}  // namespace rivulet::config
