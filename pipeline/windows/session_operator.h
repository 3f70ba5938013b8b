// SessionOperator: the session-window state of one pipeline in one stage. A key's session grows
// with each event that comes within `gap` of it and closes after `gap` without one, so every key
// has its own windows; an out-of-order event may bridge two sessions into one.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/aggregates/key_table.h"
#include "pipeline/windows/operator.h"

namespace rivulet::pipeline {

// Flink's event-time session windows, with merging; the semantics and the data layout, precisely,
// are in docs/architecture.md ("Session semantics"). Thread contract: the stage thread that owns
// it.
class SessionOperator final : public Operator {
 public:
  // `updates` receives the updates of plan.emit_updates (required then); it is called from add().
  SessionOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                  ResultSink* updates = nullptr);

  // Operator. holdsUnfiredBy() is O(sessions), for the rare commit checks. The snapshot holds the
  // session pool's slot numbers, which order sessions due at the same time, and not the timers:
  // restore() rebuilds one per session at its next due time (session_operator.cc has the encoding).
  AddResult add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                const double* values) noexcept override;
  void advanceWatermark(std::int64_t watermark, ResultSink& sink) override;
  void flush(ResultKind kind, ResultSink& sink) override;
  void discard() override;
  bool holdsUnfiredBy(std::int64_t time) const noexcept override;
  void snapshot(SnapshotWriter& out) const override;
  bool restore(SnapshotReader& in) override;
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
