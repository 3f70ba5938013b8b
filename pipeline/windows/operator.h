// Operator: the window state of one pipeline in one stage, whatever its windows, as the stage
// drives it: events in, watermarks in, results out through a ResultSink. Three kinds implement it:
// WindowOperator (tumbling and hopping windows, built from slices), SessionOperator (per-key
// session windows) and JoinOperator (window joins). One virtual call per event: the operators'
// add() is out of line anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/snapshot.h"

namespace rivulet::pipeline {

enum class ResultKind : std::uint8_t {
  kFinal,
  kPartial,  // flushed at shutdown before the watermark fired it
  kUpdate,   // emit updates: a late event changed a window already emitted
};

// What add() did with an event.
enum class AddResult : std::uint8_t {
  kAdded,
  kLate,     // every window containing it has fired or been passed: dropped
  kRefused,  // a new key for a slice that already holds plan.max_keys keys: dropped
};

struct WindowResult {
  std::int64_t start;  // ns, inclusive
  std::int64_t end;    // ns, exclusive
  ResultKind kind;
  std::string_view key;  // encoded key (pipeline/model/key.h)
  const Word* state;     // the merged aggregate state, Aggregates::words() long
  SketchPool* sketches;  // the pool behind the state's sketches, for Aggregates::writeJson
  // A join's row instead of a state: the left and the right row's fields as encoded key parts;
  // no right row (a left join's unmatched row): right_row empty and `unmatched`.
  std::string_view left_row{};
  std::string_view right_row{};
  bool unmatched = false;
};

// Receives the results of fired windows. Called on the stage thread; the views in a result are
// valid only during the call.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void onResult(const WindowResult& result) = 0;
  // Every result of window [start, end) of this operator has been passed to onResult (`results` of
  // them, possibly 0 when a window was flushed empty — not called for windows without state).
  virtual void onWindowEnd(std::int64_t start, std::int64_t end, std::size_t results) = 0;
};

// Thread contract: every call on the stage thread that owns the operator.
class Operator {
 public:
  virtual ~Operator() = default;

  // Adds one event. Unless the result is kAdded, nothing changes.
  virtual AddResult add(std::int64_t time, std::uint64_t key_hash, std::string_view key,
                        const double* values) noexcept = 0;
  // Raises the watermark (a lower value is ignored) and fires what it completes.
  virtual void advanceWatermark(std::int64_t watermark, ResultSink& sink) = 0;
  // Fires everything that holds state, as `kind` (end of a bounded input: kFinal; shutdown:
  // kPartial), and clears all state.
  virtual void flush(ResultKind kind, ResultSink& sink) = 0;
  // Drops all state without emitting anything (a Kafka rebalance: the events are consumed
  // again); the watermark stays.
  virtual void discard() = 0;
  // Checkpoints (pipeline/model/snapshot.h): the state by value; restore() takes a snapshot of an
  // operator of the same plan, or returns false and leaves the operator as constructed.
  virtual void snapshot(SnapshotWriter& out) const = 0;
  virtual bool restore(SnapshotReader& in) = 0;
  // A snapshot taken while the operator goes on. beginSnapshot() notes the state as it is at the
  // call (a checkpoint's barrier) and starts writing it into `out`; continueSnapshot() writes
  // about `budget` bytes more and returns true once the snapshot is complete. Meanwhile the
  // operator takes events, fires and expires windows as usual: what it is about to change or drop
  // is written first, as it was at the barrier. `out` is the operator's until then. By default
  // the whole snapshot is written at once, in beginSnapshot().
  virtual void beginSnapshot(SnapshotWriter& out) { snapshot(out); }
  virtual bool continueSnapshot(std::size_t /*budget*/) { return true; }
  // Goes on with an equal plan and aggregates held elsewhere (a live reload's new set).
  virtual void rebind(const PipelinePlan& plan, const Aggregates& aggregates) noexcept = 0;

  virtual std::int64_t watermark() const noexcept = 0;
  // State entries held: (key, slice) pairs, or live sessions.
  virtual std::size_t stateEntries() const noexcept = 0;
  // Whether state not yet fired holds an event at or before `time` that the watermark does not
  // tell of (a session that starts by then); windows never do. For the rare commit checks.
  virtual bool holdsUnfiredBy(std::int64_t time) const noexcept = 0;
  // Sessions are windows of one key each: the keys gauge counts keys with a live session, and no
  // end-of-window marker is sent. Windows are shared by every key: the gauge counts the keys of
  // the last fired window (ResultSink::onWindowEnd), and each end gets a marker.
  virtual bool perKeyWindows() const noexcept = 0;
  // perKeyWindows(): keys with live state now.
  virtual std::size_t liveKeys() const noexcept = 0;
};

// The operator for `plan`'s windows; `updates` receives emit-updates results (required then).
std::unique_ptr<Operator> makeOperator(const PipelinePlan& plan, const Aggregates& aggregates,
                                       ResultSink* updates);

}  // namespace rivulet::pipeline
