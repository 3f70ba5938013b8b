// SessionOperator: the session-window state of one pipeline in one stage. A key's session grows
// with each event that comes within `gap` of it and closes after `gap` without one, so every key
// has its own windows; an out-of-order event may bridge two sessions into one.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/key_table.h"
#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/windows/window_operator.h"

namespace rivulet::pipeline {

// Semantics (Flink's event-time session windows with merging):
// - An event at t opens the window [t, t + gap); windows of one key that overlap or touch merge.
//   A session is thus [first event, last event + gap), and two events of a key share a session
//   when a chain of its events, each at most gap after the previous one, links them.
// - A session fires once, when the watermark reaches end + plan.fire_delay, as kind final. With
//   emit final the fire delay is the allowed lateness; with emit updates it is 0, and until the
//   watermark reaches end + allowed lateness every event added to the fired session re-emits it
//   as kind update, with its bounds as they are then (a late event may have extended it, or
//   bridged it with another session: an update replaces every earlier result of its key that it
//   overlaps). A session that absorbs a fired one counts as fired, and an event that opens a
//   session the watermark has already passed the end of emits it at once as an update, as a late
//   event in a fired tumbling window does.
// - An event is late, and dropped, when it touches no live session of its key and its own window
//   has end + lateness <= wm. A session is freed when the watermark reaches end + lateness, so an
//   event reaching a freed session's end opens a new session (as in Flink).
// - Sessions fire in order of their fire time.
// - max_keys bounds the keys with a live session: an event that would open the first session of
//   a key past that bound is refused.
// - Events within gap + lateness of the int64 limits are refused like late ones.
//
// Data layout. A KeyTable maps each key to the head of its list of live sessions, newest (by
// start) first: in-order events extend the head, the common case, with one table lookup and one
// session read. Sessions live in a pool recycled through a free list. Fire times sit in a binary
// heap; a session that grows keeps its old entry, which is pushed again at the new time when it
// comes due (lazy decrease), and entries of sessions freed or merged away are recognised by a
// generation count and skipped. Keys whose sessions are all gone stay in the table until they
// outnumber the live ones; the table is then rebuilt from the live keys, so memory follows the live
// keys without a delete on the hot path.
class SessionOperator final : public Operator {
 public:
  // `updates` receives the updates of plan.emit_updates (required then); it is called from add().
  SessionOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                  ResultSink* updates = nullptr);

  // Adds one event. Unless the result is kAdded, nothing changes.
  AddResult add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                const double* values) noexcept override;

  // Raises the watermark (a lower value is ignored), fires the sessions it completes and frees
  // those it closes.
  void advanceWatermark(std::int64_t watermark, ResultSink& sink) override;

  // Fires every unfired session, in fire-time order, as `kind`, and clears all state.
  void flush(ResultKind kind, ResultSink& sink) override;

  // Drops every session without emitting anything (a Kafka rebalance: the events are consumed
  // again); the watermark stays.
  void discard() override;

  // Whether a session that has not fired holds an event at or before `time`: one that starts by
  // then. O(sessions); for the rare commit checks.
  bool holdsUnfiredBy(std::int64_t time) const noexcept override;

  // Checkpoints (pipeline/model/snapshot.h). snapshot() writes the operator's state by value: the
  // watermark and every live session (key, bounds, whether it has fired, its state with sketches
  // by their contents), and the session pool's slot numbers, which order sessions due at the same
  // time (the encoding is described in session_operator.cc). The timers are not written: restore()
  // rebuilds them, one per session at its next due time, which handles every session at the same
  // point and in the same order as the lazily updated heap it replaces. restore() replaces the
  // operator's state with a snapshot of an operator of the same plan and aggregates; from then on
  // it behaves as that operator would have: the same results in the same order for the same
  // input. On input that is corrupt, out of range or of another plan it returns false, fails `in`
  // and leaves the operator as constructed (empty, no watermark). Both read and write exactly the
  // operator's bytes, so several operators' snapshots can follow each other in one stream.
  // Stage thread only, between events, like add().
  void snapshot(SnapshotWriter& out) const override;
  bool restore(SnapshotReader& in) override;
  // Goes on with an equal plan and aggregates held elsewhere (a live reload's new set, in which
  // this pipeline is unchanged); the old ones may then go.
  void rebind(const PipelinePlan& plan, const Aggregates& aggregates) noexcept override {
    plan_ = &plan;
    aggregates_ = &aggregates;
  }

  std::int64_t watermark() const noexcept override { return watermark_; }
  // Keys with at least one live session.
  std::size_t liveKeys() const noexcept override { return live_keys_; }
  bool perKeyWindows() const noexcept override { return true; }
  // Live sessions.
  std::size_t stateEntries() const noexcept override { return sessions_; }
  // Keys in the table, live or not yet compacted away: what its memory follows.
  std::size_t tableKeys() const noexcept { return keys_.size(); }
  // The sketches of the sketch aggregates' states.
  const SketchPool& sketches() const noexcept { return sketches_; }

 private:
  static constexpr std::uint32_t kNone = 0xffffffff;

  struct Header {
    std::int64_t start;        // first event
    std::int64_t end;          // last event + gap
    std::uint32_t next;        // the key's next older session, or kNone
    std::uint32_t key;         // the key's entry in keys_
    std::uint32_t generation;  // bumped when the session is freed: invalidates its timers
    bool fired;
  };
  struct Timer {
    std::int64_t due;
    std::uint32_t session;
    std::uint32_t generation;
  };
  // The heap order: the earliest due on top, ties by session index, so runs are reproducible.
  static bool laterTimer(const Timer& a, const Timer& b) noexcept {
    return a.due > b.due || (a.due == b.due && a.session > b.session);
  }

  Word* state(std::uint32_t s) noexcept { return &states_[s * words_]; }
  const Word* state(std::uint32_t s) const noexcept { return &states_[s * words_]; }

  // A key's entry in keys_: the newest live session (kNone when none) and the entry's index.
  enum : std::size_t { kHead, kIndex, kEntryWords };

  // add() for all but an event in the newest session's span [start, end].
  [[gnu::noinline]] AddResult addSlow(std::int64_t time, std::uint64_t key_hash,
                                      std::string_view key, Word* entry,
                                      const double* values) noexcept;
  std::uint32_t allocate();
  // Unlinks `s` from its key's list and recycles it; a key left without sessions becomes dead.
  void free(std::uint32_t s) noexcept;
  void emitUpdate(std::uint32_t s) noexcept;
  void pushTimer(std::uint32_t s, std::int64_t due);
  // Handles every timer due at or before `limit`: fires (as `kind`) and frees sessions.
  void runTimers(std::int64_t limit, ResultKind kind, ResultSink& sink);
  void emit(std::uint32_t s, ResultKind kind, ResultSink& sink);
  // Rebuilds keys_ from the live keys when the dead ones outnumber them.
  void compactKeys();
  // Back to the state of a newly constructed operator.
  void reset();
  // restore() into a reset operator; false leaves what it read so far for reset() to drop.
  bool restoreContents(SnapshotReader& in);

  const PipelinePlan* plan_;
  const Aggregates* aggregates_;
  const std::int64_t gap_;
  // Events outside [min_time_, max_time_] are refused: their windows, fire and close times could
  // leave the int64 range.
  std::int64_t min_time_;
  std::int64_t max_time_;
  ResultSink* const updates_;
  std::int64_t watermark_;
  KeyTable keys_;      // key -> its entry (kHead, kIndex)
  KeyTable spare_;     // the next keys_ while compacting; its buffers are kept between rebuilds
  std::size_t words_;  // state words per session
  // The session pool: headers and states by session index.
  std::vector<Header> headers_;
  std::vector<Word> states_;
  std::vector<std::uint32_t> free_;
  std::vector<Timer> timers_;  // a min-heap by due
  // The sketches of the sessions' states; a state is released when its session is freed.
  SketchPool sketches_;
  std::size_t sessions_ = 0;
  std::size_t live_keys_ = 0;
  std::size_t dead_keys_ = 0;
};

}  // namespace rivulet::pipeline
