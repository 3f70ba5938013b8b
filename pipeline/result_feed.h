// ResultFeed: a pipeline's final results fed on, as events, to the pipelines reading it (`from:`
// naming a pipeline). The stage running the upstream pipeline owns one per such pipeline and
// routes each final result through an EventRouter into its rings to the next tier's stages, keyed
// by the reading pipelines' keys: re-keying goes through rings, as a source's events do.
//
// A result's event has the fields config::resultFields() lists, and the event time of its
// window's end - 1 ns: a downstream window of the upstream's slide holds one upstream window.
// The downstream watermark follows the upstream's window completion: after the stage advances the
// pipeline to watermark W, every window ending at or before W - fire delay has fired here, so no
// later result is timed before W - fire delay (advance()).
#pragma once

#include <cstdint>
#include <vector>

#include "config/config.h"
#include "config/expression/field_value.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/computed_values.h"
#include "pipeline/event_router.h"
#include "pipeline/model/number_text.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/runtime/doorbell.h"
#include "pipeline/source_plan.h"
#include "pipeline/windows/operator.h"

namespace rivulet::pipeline {

// Thread contract: owned and called by one stage thread.
class ResultFeed {
 public:
  // `upstream`: the pipeline whose results are fed; `stream`: the plan of its results stream
  // (planSource over config::withResultStreams); rings[j] and bells[j]: this stage's ring into
  // stage j of the next tier and that stage's doorbell.
  ResultFeed(const PipelinePlan& upstream, SourcePlan stream, std::vector<Ring*> rings,
             std::vector<Doorbell*> bells);

  // Routes one final result (a window's aggregates, or a join's row); `computed` is the
  // pipeline's ComputedValues after evaluate(), or null when it has none.
  void send(const WindowResult& result, const Aggregates& aggregates,
            const ComputedValues* computed) noexcept;
  // The stage advanced the upstream pipeline to `watermark`.
  void advance(std::int64_t watermark) noexcept;
  // Publishes what send() and advance() staged; rings the next tier's stages.
  void flush() noexcept;
  // Checkpoint `id`'s barrier, after the stage's snapshot; a reload's, after the stage switched
  // to the new set, and then this feed switches to the plan replanAtBarrier() gave.
  void barrier(std::uint64_t id);
  // A reload: from its barrier on, the stream's plan is `next` (routes to the new set's readers),
  // which must live until then.
  void replanAtBarrier(const SourcePlan& next) noexcept { next_ = &next; }
  // Commit mark `seq` of `source` (pipeline/commit_board.h), after the results fed so far.
  void mark(std::uint16_t source, std::uint64_t seq) noexcept { router_.mark(seq, source); }
  // The upstream pipeline's inputs have all ended (`stopped`: by a stop): after its last results.
  void end(bool stopped) noexcept { router_.end(stopped); }

  // For the metrics (any thread): the stream's counters as a source's (results fed, and those
  // every reading pipeline refused, e.g. a null key part, by reason). What each reading pipeline
  // refused while another took it is counted where its plan's routes say (Route::stats).
  const SourceStats& stats() const noexcept { return stats_; }

 private:
  struct Output {
    config::FieldValue value;
    char text[kMaxNumberText];
  };
  void setNumber(Output& out, double number) noexcept;
  // Maps the fields of the router's plan to the outputs (map_).
  void mapFields();

  std::int64_t fire_delay_;
  std::size_t key_parts_;
  std::vector<std::size_t> aggregates_;  // the aggregates among the fields, in order
  std::size_t computed_;                 // computed values among the fields
  std::size_t join_left_ = 0;            // a join's left and right fields among them
  std::size_t join_right_ = 0;
  SourceStats stats_;
  EventRouter router_;
  // One per result field (config::resultFields), then the event time.
  std::vector<Output> outputs_;
  std::vector<std::string> names_;  // of the outputs (the event time's last)
  // Per field of the stream's plan: its output.
  std::vector<std::size_t> map_;
  std::vector<config::FieldValue> fields_;  // the event as the router reads it
  bool pending_ = false;                    // something staged since flush()
  const SourcePlan* next_ = nullptr;        // the plan to switch to at the next barrier
};

}  // namespace rivulet::pipeline
