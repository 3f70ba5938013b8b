// EventRouter: the source side of the pipeline. A source parses an event into FieldValues and
// hands it here; the router projects it into one record per pipeline reading the source, hashes
// the key, stages the record on the ring of stage hash % N, and keeps the source's watermark.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/expression/field_value.h"
#include "config/expression/program.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/lookup_enricher.h"
#include "pipeline/model/key.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/runtime/doorbell.h"
#include "pipeline/source_plan.h"

namespace rivulet::pipeline {

// Longest encoded group-by key (pipeline/model/key.h) an event may have.
inline constexpr std::size_t kMaxKeyBytes = 512;

// Longest raw event text carried for the late topic: a late record holds it and its topic.
inline constexpr std::size_t kMaxLateRawBytes = kMaxRecordBytes - 512;

// Thread contract: owned and called by one source thread only.
class EventRouter {
 public:
  // stage_rings[i] is this source's ring into stage i; stage_bells[i], if given, is stage i's
  // doorbell, rung after each publish so a sleeping stage wakes at once. `stop` is the source's
  // own stop request: once it is made, the router waits for a ring's room only while its stage
  // still consumes (see route()), so that the source can leave a stage that has stopped.
  EventRouter(SourcePlan plan, std::vector<Ring*> stage_rings, SourceStats& stats,
              std::vector<Doorbell*> stage_bells = {}, std::stop_token stop = {});

  // Routes one event (fields in plan().fields order; lookup fields, which the router fills,
  // may be anything). `now` is the wall clock (ns), read once per
  // batch by the caller: the time of processing-time events and the base of the future clamp.
  // `raw` is the event's text: the sample of a refusal's warning, and what pipelines that publish
  // late events publish (empty: none to show).
  //
  // A pipeline that cannot evaluate the event (its where, a key part or an argument has a wrong
  // type or is missing) refuses it for itself alone: counted in its route's stats, while the other
  // pipelines take it. Only an event no pipeline can take (bad time, or refused by every one) is
  // the source's error. When a target ring is full it waits, or with overflow drop, drops the
  // event whole: no record of it is staged on any ring, it is counted in stats.dropped and kNone
  // is returned. A wait ends in the same drop when the source's stop is requested and the stage
  // has consumed nothing for a second since: the event was read, and it is counted, not
  // silently lost. Returns kNone, or why
  // the source refused the event (already counted).
  //
  // Lateness is judged per event: before the next event is routed, every stage has the watermark
  // of the events routed so far (the latest time minus the delay) wherever it changes what a
  // stage does with a window (a window's end plus its fire delay or lateness; any rise for session
  // pipelines), so the same input gives the same windows whatever the read batches were.
  ErrorReason route(const config::FieldValue* fields, std::int64_t now,
                    std::string_view raw = {}) noexcept;

  // Counts an event the source itself refused (e.g. an over-long line); `text` is a sample of it.
  void refuse(ErrorReason reason, std::string_view text = {}) noexcept {
    stats_.error(reason, text);
  }

  // The counters of the events route `r`'s pipeline refused (the plan's, or the router's own).
  const PipelineSourceStats& routeStats(std::size_t r) const noexcept { return *route_stats_[r]; }

  // Counts a client the source closed at once (tcp: max_connections reached).
  void countRefusedConnection() noexcept { bump(stats_.connections_refused); }
  // The same counter, for a thread that refuses clients on the source's behalf (a ZAP handler);
  // the source must then not count them itself, so that the counter keeps one writer.
  Counter& refusedConnections() noexcept { return stats_.connections_refused; }

  // Counts events lost before the source could read them (datagrams the kernel dropped).
  void countSocketDrops(std::uint64_t n) noexcept {
    if (n > 0) bump(stats_.socket_drops, n);
  }

  // Publishes staged records and sends the watermark if it advanced. After watermark.idle without
  // events the source is idle: the stages leave it out of a pipeline's minimum while another
  // source of the pipeline is active, and its watermark goes on with the wall clock from the last
  // event (latest time + silence - delay), so that the windows of a quiet stream close. Call after
  // every batch and at least every ~100 ms: it is also the source thread's heartbeat
  // (SourceStats::heartbeat), which the watchdog checks. `now` is the wall clock, `steady` the
  // monotonic clock (ns).
  void flush(std::int64_t now, std::int64_t steady) noexcept;

  // Sends the end of this source's stream to every stage. Never waits for room: every other record
  // leaves room for it.
  void end(bool stopped) noexcept;
  // Checkpoints: from now on flush() takes part in those `board` requests. At the first flush
  // after a request it writes the source's position (setPosition) into board.source(index) and
  // sends the barrier to every stage.
  void joinCheckpoints(CheckpointBoard& board, std::size_t index) noexcept {
    checkpoints_ = &board;
    checkpoint_index_ = index;
    checkpoint_ = board.requested();  // a board resumed from a restored checkpoint's id
  }
  // How the source's position is told, for checkpoints: called on this thread, in flush(), at a
  // point where every event before it has been routed. Without one the position is empty (the
  // source cannot resume from one).
  void setPosition(std::function<std::string()> position) { position_ = std::move(position); }

  // For a source that keeps its own watermark (Kafka: the minimum over its partitions): flush()
  // sends this one from now on instead of the latest event time minus the delay. Sent only when
  // it rises, as always, and at once where it changes what a stage does with a window (as
  // route() does for the others), so that the next event is judged against it.
  void setWatermark(std::int64_t watermark) noexcept {
    own_watermark_ = true;
    next_decision_time_ = kMaxTime;  // the source's events no longer move the watermark
    watermark_ = watermark;
    // An idle source's watermark goes out with flush()'s kIdle: a kWatermark would end its
    // idleness.
    if (watermark >= next_decision_ && (events_since_flush_ > 0 || !idle_)) [[unlikely]]
      sendDecision(watermark);
  }

  // Sends checkpoint `id`'s barrier to every stage, after the events routed so far: for a router
  // whose caller aligns barriers itself (a stage feeding results on, pipeline/result_feed.h)
  // instead of joinCheckpoints().
  void passBarrier(std::uint64_t id) noexcept;
  // Switches to `plan` (a reload's, after its barrier): cold, allocates.
  void replan(const SourcePlan& plan);

  // Commit marks (pipeline/commit_board.h): sends mark `seq` to every stage, after the events
  // routed so far, with the latest time among them. A feed's marks are its sources': the record
  // names `source`.
  void mark(std::uint64_t seq, std::uint16_t source = 0) noexcept;
  // Tells every stage that this source's events are coming again from its last committed mark,
  // whose events reached `floor` (kMinTime: from the start): see Stage::onReset.
  void reset(std::int64_t floor) noexcept;
  // The events routed from now on come from a part of the input (a Kafka partition) whose own
  // committed mark reached `floor`, above the one reset() told the stages: an event all of whose
  // windows closed by then was published before the replay, and goes to the stages as a
  // kPublishedEvent, which they count late (kMinTime: none is).
  void setPublishedThrough(std::int64_t floor) noexcept { published_through_ = floor; }

  const SourcePlan& plan() const noexcept { return plan_; }
  // Rises each time a reconfiguration's barrier replaces plan(): a source that derived anything
  // from the plan (a parser's field list) derives it again before its next route().
  std::uint64_t generation() const noexcept { return generation_; }
  // The latest event time route() took (ns), kMinTime before the first.
  std::int64_t maxTime() const noexcept { return max_time_; }
  // The event time of the last event route() took (ns).
  std::int64_t lastTime() const noexcept { return last_time_; }

 private:
  // A group-by part computed by an expression, with room for the text of a number value.
  struct KeyExpression {
    config::CompiledExpression expression;
    char number[kMaxNumberText];
  };

  // Evaluates the computed parts of `route`'s key over the event into key_values_; false (with
  // the reason) when one has no value a key can hold: null (kMissingField, as a missing field),
  // an infinite number (kWrongType: JSON has none) or an evaluation error.
  bool computeKeys(const SourcePlan::Route& route, const config::FieldValue* fields,
                   ErrorReason& reason) noexcept;

  // A top_k value whose bytes go after the key.
  struct PendingItem {
    std::size_t argument;  // which of the route's arguments (values from Route::numbers on)
    KeyPartType type;
    std::string_view text;
  };
  // Room for a computed number's text (pipeline/model/number_text.h).
  struct NumberText {
    char text[kMaxNumberText];
  };

  // Reads the count_distinct and top_k arguments of route `r` into argument_slots_ and items_;
  // false (with the reason) if the event cannot be taken.
  [[gnu::noinline]] bool readArguments(std::size_t r, const config::FieldValue* fields,
                                       ErrorReason& reason) noexcept;
  // The argument of a count_distinct or top_k: the field's own value where it is one (a number
  // keeps its JSON text, which top_k counts), else the expression's result.
  config::ExprValue argument(std::size_t r, std::size_t v,
                             const config::FieldValue* fields) noexcept;
  // Builds this event's record for every route (targets_, cells_), in ring space when
  // `in_place`, else in local_. False when the event is refused (`reason` says why) or, in place,
  // when a ring has no room for a record (`reason` stays kNone).
  bool build(const config::FieldValue* fields, std::int64_t time, std::string_view raw,
             bool in_place, ErrorReason& reason) noexcept {
    if ((build_kind_ & (kArgumentsBit | kRefusingLookupsBit)) == 0) [[likely]]
      return build<false, false>(fields, time, raw, in_place, reason);
    return buildWithExtras(fields, time, raw, in_place, reason);
  }
  // build() for routes with count_distinct or top_k values, or that refuse a lookup's miss.
  [[gnu::noinline]] bool buildWithExtras(const config::FieldValue* fields, std::int64_t time,
                                         std::string_view raw, bool in_place,
                                         ErrorReason& reason) noexcept;
  // build() for a source whose routes have count_distinct or top_k values (kArguments) or not,
  // and routes that refuse an event whose lookup missed (kRefusingLookups) or not.
  template <bool kArguments, bool kRefusingLookups>
  bool build(const config::FieldValue* fields, std::int64_t time, std::string_view raw,
             bool in_place, ErrorReason& reason) noexcept;
  // Route r refuses the event being built (for `why`): it gets no record.
  [[gnu::noinline]] void refuseRoute(std::size_t r, ErrorReason why) noexcept;
  // After a build with refusals: true if some route takes the event; false (with the source's
  // reason when there was room) if it is built again or no pipeline can take it.
  [[gnu::noinline]] bool settleRefusals(bool room, ErrorReason& reason) noexcept;
  // Counts the refusals of the routes that refused the event just built (some route took it).
  [[gnu::noinline]] void countRefusals(std::string_view raw) noexcept;
  // Sends `watermark` to every stage now, and finds the next watermark that matters.
  [[gnu::noinline]] void sendDecision(std::int64_t watermark) noexcept;
  // The least watermark above `watermark` at which some route's stage fires a window, or closes
  // one to late events: a stage decides alike for every watermark between two of them.
  std::int64_t nextDecision(std::int64_t watermark) const noexcept;
  // Whether an event at `time` may be late for `route`: every window containing it closed at the
  // watermark this router last sent. The stage's watermark is never ahead of it for this source's
  // events, so an event this says no to is not late.
  bool mayBeLate(const SourcePlan::Route& route, std::int64_t time) const noexcept;
  // Whether every window of `route` holding an event at `time` closed once the watermark passed
  // those of the events up to `floor` (Stage's closedThrough): the last window start of `time`
  // is at or before that of `floor`.
  // Out of line: inlined, its divisions made the compiler call RecordWriter::append out of line
  // in build(), 30 instructions per event (callgrind).
  [[gnu::noinline]] static bool closedWith(const SourcePlan::Route& route, std::int64_t time,
                                           std::int64_t floor) noexcept;
  // Whether every ring has room for this event's records (built off-ring), once `wait` (a
  // blocking source) has waited for it; false if not, or if the source was stopped while a stage
  // it waited for was stuck.
  // Publishes what is staged on the rings it found full, so their stages are not left waiting.
  [[gnu::noinline]] bool roomForEvent(bool wait) noexcept;
  // Waits until `ring` has room for `cells`; false when the source is stopped and the ring has
  // not drained for kStuckStageNs (or the ring is smaller than that).
  bool waitForRoom(std::size_t ring, std::size_t cells) noexcept;
  // Stages `cells` on `ring` with `reserve` cells to spare, waiting for room if need be; false
  // (nothing staged) when the source was stopped and the ring is stuck.
  bool push(std::size_t ring, std::span<const Cell> cells, std::size_t reserve) noexcept;
  void publish(std::size_t ring) noexcept;
  // Derives what route() uses from plan_.
  void compile();
  // Notes the position for checkpoint `id` and sends its barrier to every stage; for a
  // reconfiguration, switches to its plan after the barrier.
  [[gnu::cold]] void barrier(std::uint64_t id) noexcept;
  void beat(std::int64_t steady) noexcept {
    stats_.heartbeat.store(steady, std::memory_order_relaxed);
  }
  // Sends a control record (with `data` after its header) to every ring. With overflow drop and
  // `may_defer`, a full ring defers it instead (false): a dropping source does not wait for a
  // watermark or idle mark, which goes at a later flush. False too when the source was stopped
  // while waiting: the record went only to the rings that had room.
  bool broadcast(RecordType type, std::int64_t time, std::uint8_t flags, bool may_defer,
                 std::string_view data = {}, std::uint16_t pipeline = 0) noexcept;

  SourcePlan plan_;
  std::uint64_t generation_ = 0;
  const std::vector<Ring*> rings_;
  const std::vector<Doorbell*> bells_;  // empty, or one per ring
  const std::stop_token stop_;
  SourceStats& stats_;
  std::vector<std::optional<config::CompiledExpression>> where_;  // per route, from plan_
  // Per route, per value: the compiled expression of a computed value.
  std::vector<std::vector<std::optional<config::CompiledExpression>>> values_;
  std::vector<KeyExpression> key_exprs_;  // plan_.key_exprs, compiled
  // Their values for the event being built, as a parser hands over fields, so that hashing and
  // encoding treat computed parts and fields alike.
  std::vector<config::FieldValue> key_values_;
  std::vector<std::unique_ptr<Cell[]>> local_;  // per route: where a record is built off-ring
  // The record being built's arguments (slots from Route::numbers on) and top_k items; reserved
  // for the most values of a route, so that no event allocates.
  std::vector<double> argument_slots_;
  std::vector<PendingItem> items_;
  std::vector<NumberText> number_texts_;  // per argument: computed numbers as items
  bool any_arguments_ = false;            // some route has count_distinct or top_k values
  // What route() and build() do besides the plain path: one byte, tested once per event.
  static constexpr std::uint8_t kArgumentsBit = 1;        // any_arguments_
  static constexpr std::uint8_t kRefusingLookupsBit = 2;  // a route refuses a lookup's miss
  static constexpr std::uint8_t kLookupsBit = 4;          // the plan has lookups
  std::uint8_t build_kind_ = 0;
  LookupEnricher lookups_;              // plan_.lookups: enriches an event when kLookupsBit is set
  std::vector<std::uint32_t> targets_;  // per route: the stage ring
  std::vector<std::uint16_t> cells_;    // per route: the record's cells (0: not for it)
  std::vector<ErrorReason> refusals_;   // per route: why it refused the event built, or kNone
  std::size_t refused_routes_ = 0;      // routes that refused the event built
  std::vector<PipelineSourceStats*> route_stats_;  // per route: plan's, or one of own_stats_
  std::vector<std::unique_ptr<PipelineSourceStats>> own_stats_;
  std::vector<std::size_t> claimed_;  // per ring: cells built in place by the current event
  std::int64_t max_time_ = kMinTime;
  std::int64_t last_time_ = kMinTime;
  std::int64_t sent_watermark_ = kMinTime;
  std::int64_t published_through_ = kMinTime;  // setPublishedThrough()
  // The next watermark at which a stage's decisions change (nextDecision), and the event time
  // that takes the watermark there (+ delay), compared per event; kMaxTime: never (processing
  // time, or no windows).
  std::int64_t next_decision_ = kMinTime;
  std::int64_t next_decision_time_ = kMinTime;
  CheckpointBoard* checkpoints_ = nullptr;
  std::size_t checkpoint_index_ = 0;
  std::function<std::string()> position_;
  std::uint64_t checkpoint_ = 0;  // the latest checkpoint this source has sent a barrier for
  bool own_watermark_ = false;    // setWatermark() was called: watermark_ is the source's
  std::int64_t watermark_ = kMinTime;
  std::int64_t last_event_steady_ = 0;
  bool idle_ = false;
  std::uint64_t events_since_flush_ = 0;
};

// Stage of a key hash among `stages`: the high 32 bits, so that the low bits stay uniform within a
// stage for its hash tables.
inline std::uint32_t stageOf(std::uint64_t hash, std::uint32_t stages) noexcept {
  return static_cast<std::uint32_t>(((hash >> 32) * stages) >> 32);
}

}  // namespace rivulet::pipeline
