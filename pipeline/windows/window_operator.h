// WindowOperator: the event-time window state of one pipeline in one stage, and the rules that
// fire it. Tumbling and hopping windows are both built from slices (panes) of gcd(size, slide):
// an event updates exactly one slice, and a hopping window merges its size/slice slices when it
// fires, so an event costs the same whatever the overlap.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/key_table.h"
#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/windows/operator.h"

namespace rivulet::pipeline {

// Flink's event-time windows, aligned to the epoch; the semantics, precisely, are in
// docs/architecture.md ("Window semantics"). Thread contract: the stage thread that owns it.
class WindowOperator final : public Operator {
 public:
  // `updates` receives the updates of plan.emit_updates (required then); it is called from add().
  WindowOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                 ResultSink* updates = nullptr);
  ~WindowOperator() override;

  // Operator. discard() keeps the watermark and which windows fired: a replayed event in a fired
  // window is late, or with emit updates re-emits it. The snapshot encoding is described in
  // window_operator.cc.
  AddResult add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                const double* values) noexcept override;
  void advanceWatermark(std::int64_t watermark, ResultSink& sink) override;
  void flush(ResultKind kind, ResultSink& sink) override;
  void discard() noexcept override;
  void snapshot(SnapshotWriter& out) const override;
  bool restore(SnapshotReader& in) override;
  // Incremental: a slice's entries are written in runs of its insertion order, and an entry the
  // operator is about to change first goes out alone, as it was (window_operator.cc).
  void beginSnapshot(SnapshotWriter& out) override;
  bool continueSnapshot(std::size_t budget) override;
  void rebind(const PipelinePlan& plan, const Aggregates& aggregates) noexcept override {
    plan_ = &plan;
    aggregates_ = &aggregates;
  }
  std::int64_t watermark() const noexcept override { return watermark_; }
  // Distinct keys in the most recently fired window (for the keys gauge).
  std::size_t lastWindowKeys() const noexcept { return last_window_keys_; }
  // (key, slice) entries currently held.
  std::size_t stateEntries() const noexcept override;
  bool holdsUnfiredBy(std::int64_t) const noexcept override { return false; }
  bool perKeyWindows() const noexcept override { return false; }
  std::size_t liveKeys() const noexcept override { return last_window_keys_; }
  // The sketches of the sketch aggregates' states.
  const SketchPool& sketches() const noexcept { return sketches_; }

 private:
  struct Slice;
  // add() for an event in another slice than the previous one, or of a new key.
  [[gnu::noinline]] AddResult addSlow(std::int64_t time, std::uint64_t key_hash,
                                      std::string_view key, const double* values) noexcept;
  // emit updates: re-emits `key` in each window of `slice` that has fired and is still open to
  // late events.
  [[gnu::noinline]] void emitUpdates(const Slice* slice, std::uint64_t key_hash,
                                     std::string_view key) noexcept;
  // Where an event goes: its slice, or nowhere (late, or between two windows when slide > size).
  Slice* sliceFor(std::int64_t time, bool& late);
  // A free slice (or a new one) set to these bounds, not yet in slices_.
  Slice* takeSlice(std::int64_t start, std::int64_t first_window, std::int64_t last_window,
                   std::int64_t expires);
  // Fires, in start order, every unfired window holding state whose end + lateness <= limit.
  void fireWindows(std::int64_t limit, ResultKind kind, ResultSink& sink);
  void fireWindow(std::int64_t start, ResultKind kind, ResultSink& sink);
  void emit(const KeyTable& table, std::int64_t start, ResultKind kind, ResultSink& sink);
  // Recycles the slices whose windows have all fired or been passed (every slice if `all`).
  void releaseFiredSlices(bool all);
  // Returns the sketches of every state in `table` to the pool, before the table is cleared.
  void releaseSketches(KeyTable& table) noexcept;
  // The snapshot (window_operator.cc has the encoding): the part before the entries, and the
  // entries `first`.. of slice `ordinal` as one run.
  void writeHead(SnapshotWriter& out) const;
  std::size_t beginRun(SnapshotWriter& out, std::size_t ordinal, std::size_t first) const;
  void putEntry(SnapshotWriter& out, const KeyTable& table, std::size_t k) const;
  void endRun(SnapshotWriter& out, std::size_t at, std::size_t count) const;
  // A snapshot in progress: writes `slice`'s entries from its cursor on, until `out` has grown
  // to `until` bytes; true once all are written (the slice is then detached from it).
  struct SliceProgress;
  bool writeSlice(SliceProgress& progress, std::size_t until);
  // Writes the entry of `state`, which the caller is about to change, if the snapshot in progress
  // holds it and has not written it yet.
  [[gnu::noinline]] void writeAhead(Slice& slice, const Word* state);
  // Back to the state of a newly constructed operator.
  void reset();
  // restore() into a reset operator; false leaves what it read so far for reset() to drop.
  bool restoreContents(SnapshotReader& in);

  const PipelinePlan* plan_;
  const Aggregates* aggregates_;
  // The sketches of every state below: slices, merged_ and update_. Every state is released
  // before it is dropped, so the pool holds only as many sketches as the states ever need at once.
  SketchPool sketches_;
  std::int64_t watermark_;
  std::int64_t next_start_;      // every window starting before this has fired or was passed
  std::vector<Slice*> slices_;   // live slices, ordered by start
  Slice* last_slice_ = nullptr;  // the slice of the previous event: most events share it
  std::vector<std::unique_ptr<Slice>> pool_;  // all slices ever made; free ones are reused
  std::vector<Slice*> free_;
  KeyTable merged_;  // scratch for merging the slices of a hopping window
  ResultSink* const updates_;
  std::vector<Word> update_;  // scratch for one key's merged state
  std::size_t last_window_keys_ = 0;
  // While a snapshot is in progress (beginSnapshot() to the continueSnapshot() that completes
  // it): where it goes, and per slice in it, how far it is (add() writes ahead the entries it
  // is about to change that the snapshot still needs).
  SnapshotWriter* snapshot_out_ = nullptr;
  std::vector<SliceProgress> progress_;
  std::size_t progress_next_ = 0;  // slices before it are written whole
};

}  // namespace rivulet::pipeline
