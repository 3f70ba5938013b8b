// Stage: one aggregation thread. It owns the window state of its shard of every pipeline, reads
// one ring per source, and writes serialised results to its ring to the publisher.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/computed_values.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/reconfiguration.h"
#include "pipeline/result_feed.h"
#include "pipeline/runtime/doorbell.h"
#include "pipeline/windows/operator.h"

namespace rivulet::pipeline {

// Stage -> publisher control records: kWindowEnd after the results of each window the stage fired;
// kWatermark (header.pipeline, header.time) when a pipeline's watermark passes another window end,
// so the publisher knows when every stage is done with a window; kEnd last.

// The payload of a kResult record: this prefix, then the topic, then the JSON payload minus its
// first two members (pipeline, seq), which only the publisher can write.
struct ResultPrefix {
  std::int64_t fired_at;  // steady clock (ns) when the watermark fired the window
  std::uint32_t topic_size;
  std::uint32_t tail_size;
  double rank_value;  // `top:`'s value of the result (ComputedValues::rankValue)
};

// The payload of a kWindowEnd record (header.time is the window's end).
struct WindowEndPayload {
  std::int64_t start;
  std::uint64_t results;
};

// The payload of a kLate record: these sizes, then the topic, then the event's raw text.
struct LatePayload {
  std::uint32_t topic_size;
  std::uint32_t raw_size;
};

class Stage final : private ResultSink {
 public:
  // inputs[i]: a ring from stream input_streams[i] (PipelinePlan::sources' indices; empty: the
  // ring from source i); stats[p]: this stage's counters of pipeline p. publisher_bell, if given,
  // is rung after results are published to `output`. The stage runs the pipelines of `tier`.
  Stage(std::span<const PipelinePlan> pipelines, std::span<const Aggregates> aggregates,
        std::vector<Ring*> inputs, Ring& output, std::vector<PipelineStageStats*> stats,
        Doorbell* publisher_bell = nullptr, std::vector<int> input_streams = {}, int tier = 0);
  ~Stage() override;

  // The thread body: runs until every input has ended, then flushes every window (final at the
  // end of bounded inputs, partial when stopped) and sends kEnd to the publisher.
  void run() noexcept;

  // Sources ring this after publishing to the stage's inputs (any thread).
  Doorbell& doorbell() noexcept { return doorbell_; }

  // How long the stage spins on its inputs after its last progress before it parks (Backoff;
  // daemon.idle_spin). Before run().
  void setIdleSpin(std::int64_t ns) noexcept { idle_spin_ns_ = ns; }

  // Feeds pipeline `pipeline`'s final results on to the pipelines reading it. Before run().
  void feed(std::uint16_t pipeline, std::unique_ptr<ResultFeed> feed);

  // Checkpoints: this stage is stage `index` of `board`'s. Before run().
  void joinCheckpoints(CheckpointBoard& board, std::size_t index) noexcept {
    checkpoints_ = &board;
    checkpoint_index_ = index;
  }
  // Takes the state a checkpoint noted for this stage (board.stages()[index] then). Before run();
  // false if `snapshot` is corrupt or does not fit this stage's pipelines: the stage must then
  // not be run.
  bool restore(std::string_view snapshot);

  // Steady-clock time (ns) of the stage's last loop iteration (a parked stage wakes at least every
  // kParkNs) or of its last wait for room towards the publisher; any thread, for the watchdog.
  std::int64_t heartbeat() const noexcept { return heartbeat_.load(std::memory_order_relaxed); }

  // Steady-clock time (ns) the stage has spent busy (loop iterations that processed input) and
  // idle (iterations that found none, and the spinning, yielding or parking between them); their
  // sum is the time since run() started, up to the last iteration. Any thread.
  std::uint64_t busyNanos() const noexcept { return busy_ns_.load(std::memory_order_relaxed); }
  std::uint64_t idleNanos() const noexcept { return idle_ns_.load(std::memory_order_relaxed); }

 private:
  // A commit mark from a source, held until the windows of the events before it are published.
  struct PendingMark {
    std::uint64_t seq;
    std::int64_t max_time;  // the latest event time the source (or feed) routed before the mark
    std::uint16_t source;   // the source whose mark it is (a feed's marks are its sources')
  };

  struct Input {
    Ring* ring = nullptr;
    int stream = 0;  // the source, or a pipeline's results (PipelinePlan::sources)
    std::int64_t watermark = kMinTime;
    bool idle = false;
    bool ended = false;
    bool stopped = false;
    std::deque<PendingMark> marks{};  // in order
    // Its barrier for the checkpoint in progress has arrived: nothing after it is read until
    // every input's has (alignment), so the snapshot holds exactly the events before them.
    bool at_barrier = false;
  };

  std::size_t drain(Input& input) noexcept;
  // Every record but kEvent.
  [[gnu::noinline]] void onControl(Input& input, const RecordHeader* h) noexcept;
  void onEvent(const RecordHeader* h) noexcept;
  // Counts event `h` late, and publishes it to _late/ when its pipeline asks.
  [[gnu::noinline]] void onLate(const RecordHeader* h) noexcept;
  void advanceWatermarks() noexcept;
  // Passes on the marks of input `input` whose windows are all published (passMark).
  void passMarks(std::size_t input) noexcept;
  // Mark `seq` of `source` is owed nothing more here: to the publisher, and on through the feeds
  // to the next tier, after the results fed before it.
  void passMark(std::uint16_t source, std::uint64_t seq) noexcept;
  // A stage reading feeds: input `input` has passed mark `seq` of `source`; the mark passes once
  // every input still open has passed it (each upstream stage sends it after its results).
  void notePassed(std::size_t input, std::uint16_t source, std::uint64_t seq) noexcept;
  // Drops the state of the pipelines reading `source`, raising their watermarks to the replay
  // floor: see onReset.
  void onReset(std::size_t source, std::int64_t floor) noexcept;
  void finish() noexcept;
  // Once every input is at the barrier (or ended): starts the snapshot of the state (or switches
  // to a reconfiguration's pipelines), passes the barrier to the publisher and reads on. Cold:
  // once per checkpoint.
  [[gnu::cold]] void alignBarrier() noexcept;
  // The stage's part of a checkpoint, written while it goes on: beginSnapshot() at the barrier,
  // then continueSnapshot() between batches, each writing about kSnapshotStep bytes, until the
  // part is written; then it goes on the board, and kSnapshotDone to the publisher. `all` writes
  // the rest at once (the stage is finishing).
  void beginSnapshot();
  [[gnu::cold]] void continueSnapshot(bool all) noexcept;
  // A reconfiguration's barrier is in from every input: flushes the pipelines it drops (as
  // partial, before the barrier goes on) and switches to its set, keeping the operators of the
  // pipelines it keeps.
  void reconfigure(const Reconfiguration& change);
  // Adds the events, late events and refused keys counted since the last call to the stats.
  void publishCounts() noexcept;
  void push(std::span<const Cell> cells) noexcept;
  void publishResults() noexcept;
  void park() noexcept;
  void pushControl(RecordType type, std::uint16_t pipeline, std::int64_t time,
                   const void* data = nullptr, std::size_t size = 0) noexcept;

  // Sends a late event's raw text to the publisher, for _late/<pipeline>/.
  void publishLate(std::uint16_t pipeline, std::string_view raw) noexcept;

  // ResultSink
  void onResult(const WindowResult& result) override;
  void onWindowEnd(std::int64_t start, std::int64_t end, std::size_t results) override;
  static void writeJoinValues(const JoinPlan& join, const WindowResult& result, JsonWriter& json);
  // What the stage keeps per pipeline beside its operator: computed values, value bytes.
  void bindPipelines();

  std::span<const PipelinePlan> pipelines_;
  std::vector<Input> inputs_;
  Ring& output_;
  std::vector<PipelineStageStats*> stats_;
  std::vector<std::unique_ptr<Operator>> operators_;
  std::vector<const Aggregates*> aggregates_;
  // Per pipeline: its computed values and having, or null (ComputedValues::neededBy).
  std::vector<std::unique_ptr<ComputedValues>> computed_;
  // Per pipeline: the inputs it reads on this stage (none when another tier runs it).
  std::vector<std::vector<std::size_t>> pipeline_inputs_;
  // Per pipeline: its feed to the pipelines reading it, or null; and the feeds alone.
  std::vector<std::unique_ptr<ResultFeed>> feeds_;
  std::vector<ResultFeed*> active_feeds_;
  int tier_ = 0;
  // A stage reading feeds (tier > 0): per input, per source, the latest mark it passed; per
  // source, the latest mark passed on. Grown as sources' marks first arrive (cold).
  std::vector<std::vector<std::uint64_t>> passed_marks_;
  std::vector<std::uint64_t> forwarded_marks_;
  // Per pipeline: the bytes of an event's value slots, read per event (a PipelinePlan is large
  // and its fields far apart).
  std::vector<std::size_t> value_bytes_;
  // Results of the window being fired that having dropped: a window's marker counts the
  // results published (updates, fired one at a time, are not counted).
  std::size_t filtered_ = 0;
  std::vector<std::uint64_t> events_;  // per pipeline, published to stats per batch
  std::vector<std::uint64_t> late_;
  std::vector<std::uint64_t> refused_;
  std::vector<std::int64_t> reported_;  // per pipeline: window-end boundary last reported
  RecordReader reader_;
  RecordBuilder result_;
  std::string topic_;
  std::string tail_;
  std::uint16_t firing_pipeline_ = 0;  // which operator is calling the ResultSink
  std::int64_t fired_at_ = 0;
  CheckpointBoard* checkpoints_ = nullptr;
  std::size_t checkpoint_index_ = 0;
  std::uint64_t barrier_ = 0;  // the checkpoint whose barriers are arriving, 0 when none
  // The checkpoint whose part is being written, 0 when none; per pipeline its operator's bytes,
  // and the frame around them ([pipelines:u32], then per pipeline [reported:i64][bytes:u32]),
  // kept from checkpoint to checkpoint so that their buffers are allocated (and their pages
  // faulted in) once; the first operator not yet done; the longest step so far (ns).
  std::uint64_t snapshot_id_ = 0;
  std::vector<SnapshotWriter> parts_;
  SnapshotWriter frame_;
  std::size_t snapshot_next_ = 0;
  std::int64_t snapshot_pause_ = 0;
  std::atomic<std::int64_t> heartbeat_{0};
  // Written once per loop iteration by the stage thread alone (bump: no locked instruction), read
  // at scrape time; they share the heartbeat's line, which only this thread writes.
  Counter busy_ns_{0};
  Counter idle_ns_{0};
  Doorbell* publisher_bell_;
  Doorbell doorbell_;
  std::int64_t idle_spin_ns_ = 0;  // setIdleSpin()
};

}  // namespace rivulet::pipeline
