// Reconfiguration: a live reload's switch to another set of pipelines, carried by a barrier
// (pipeline/checkpoint_board.h). Each thread switches as the barrier passes it: a source's router
// at the barrier it sends, a stage once it has the barrier from every input, the publisher once
// it has every stage's. The events before the barriers go to the old pipelines, those after to
// the new: no event is aggregated by both or by neither.
//
// A pipeline kept unchanged (`previous` names its index in the running set) keeps its window
// state, watermark and seq; a removed one, or the old form of a changed one, is flushed as
// partial before the barrier; an added one starts empty at the sources' current watermarks.
//
// Thread contract: built by the coordinator, read-only for the threads from the request of its
// barrier until it completes.
#pragma once

#include <span>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/event_router.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/stats.h"

namespace rivulet::pipeline {

struct Reconfiguration {
  std::span<const PipelinePlan> plans;  // the new set, id = index
  std::span<const Aggregates> aggregates;
  std::vector<int> previous;        // per new pipeline: its index in the running set, or -1
  std::vector<SourcePlan> sources;  // per source: its routes to the new set
  // [stage][new pipeline]: the plan a pipeline's feed of its results to the pipelines reading
  // it switches to (ResultFeed::barrier); empty for a pipeline no one reads or another tier's.
  std::vector<std::vector<SourcePlan>> feeds;
  // Per stage, per new pipeline: its counters (a kept pipeline's are the ones it had).
  std::vector<std::vector<PipelineStageStats*>> stage_stats;
  std::vector<PipelinePublishStats*> publish_stats;  // per new pipeline
};

}  // namespace rivulet::pipeline
