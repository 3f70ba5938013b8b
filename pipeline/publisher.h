// Publisher: the one thread that hands results to the outputs (the ZeroMQ socket is not
// thread-safe, and one writer keeps each pipeline's seq gap-free). It reads every stage's ring,
// numbers the results per pipeline, completes the JSON payload and sends it; once every stage is
// past a window it sends that window's end-of-window marker on `_window/<pipeline>/`.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/checkpoint_board.h"
#include "pipeline/commit_board.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/reconfiguration.h"
#include "pipeline/runtime/clock.h"
#include "pipeline/runtime/doorbell.h"

namespace rivulet::pipeline {

// Where results go: the ZeroMQ socket, the JSON-lines file. Called on the publisher thread only.
class ResultOutput {
 public:
  virtual ~ResultOutput() = default;
  // One result: `topic` as the README's Subscribing section gives it (pipeline/key.../),
  // `payload` the JSON object.
  virtual void send(std::string_view topic, std::string_view payload) = 0;
  // An end-of-window marker (`_window/<pipeline>/`) or a late event (`_late/<pipeline>/`). Only
  // the message bus carries them: the JSON-lines file holds results alone.
  virtual void sendMarker(std::string_view topic, std::string_view payload) {
    (void)topic;
    (void)payload;
  }
  // No results are waiting: flush buffers, serve housekeeping (e.g. subscriptions).
  virtual void idle() {}
  // Every stage has ended and its last results were handed over: wait until they are out (a
  // Kafka output's acknowledgements), before the daemon says all results are published.
  virtual void finish() { idle(); }
  // For commit marks (pipeline/commit_board.h): how far this output has taken results (a count of
  // its own), and whether everything up to `position` is safe at its far end. An output that
  // hands results on at once (ZeroMQ, a file flushed by idle()) is always safe; a Kafka output
  // is once the brokers have acknowledged them.
  virtual std::uint64_t position() const { return 0; }
  virtual bool safeThrough(std::uint64_t position) const {
    (void)position;
    return true;
  }
};

class Publisher {
 public:
  // pipeline_stats[p]: the results counters and emit-latency histogram of pipeline p.
  // stage_tiers[i]: the tier of stage i (PipelinePlan::tier), which runs that tier's pipelines
  // alone; empty: every stage is of tier 0.
  Publisher(std::span<const PipelinePlan> pipelines, std::vector<Ring*> stage_rings,
            std::vector<ResultOutput*> outputs, PublisherStats& stats,
            std::vector<PipelinePublishStats*> pipeline_stats, CommitBoard* commits = nullptr,
            std::vector<int> stage_tiers = {});

  // The thread body: runs until every stage has sent kEnd and its results are out.
  void run() noexcept;

  // How long the publisher spins on the stages' rings after its last progress before it parks
  // (Backoff; daemon.idle_spin). Before run().
  void setIdleSpin(std::int64_t ns) noexcept { idle_spin_ns_ = ns; }

  // Steady-clock time (ns) of the publisher's last loop iteration (a parked publisher wakes at
  // least every 50 ms); any thread, for the watchdog.
  std::int64_t heartbeat() const noexcept { return heartbeat_.load(std::memory_order_relaxed); }
  // An output waiting on the publisher's thread (a Kafka producer's full queue) shows it is alive.
  void beat() noexcept { heartbeat_.store(steadyNanos(), std::memory_order_relaxed); }
  // Checkpoints: completes those of `board` once every stage's barrier is in. Before run().
  void joinCheckpoints(CheckpointBoard& board) noexcept { checkpoints_ = &board; }
  // Takes the state a checkpoint noted (board.publisher() then): each pipeline's seq and the
  // windows waiting for their end-of-window markers. Before run(); false if corrupt or not for
  // these pipelines and stages (the publisher must then not be run).
  bool restore(std::string_view snapshot);

  // Stages ring this after publishing results (any thread).
  Doorbell& doorbell() noexcept { return doorbell_; }

 private:
  // `top:` of a pipeline (config::TopSpec): its results wait in their window until the window is
  // complete on every stage, and only the first n go out.
  struct Ranking {
    std::size_t n = 0;
    bool ascending = false;
    bool keep_ties = true;
  };
  // A result of a ranked pipeline, held.
  struct Row {
    double value = 0;  // the rank value; NaN (null) ranks last
    std::int64_t fired_at = 0;
    std::uint8_t kind = 0;  // ResultKind
    std::string topic;
    std::string tail;
  };
  // A window some stage fired, waiting for the other stages to pass it.
  struct OpenWindow {
    std::int64_t start = 0;
    std::uint64_t results = 0;
    std::vector<Row> rows;  // ranked pipelines: the best so far, unsorted
  };
  struct PipelineState {
    std::string name;
    std::int64_t fire_delay = 0;  // PipelinePlan::fire_delay
    std::string prefix;           // {"pipeline":"name","seq":
    std::string marker_topic;     // _window/name/
    bool publish = true;          // PipelinePlan::publish: else no marker goes out
    std::uint64_t seq = 0;
    std::vector<std::int64_t> stage_watermark;  // per stage
    std::map<std::int64_t, OpenWindow> open;    // by window end
    std::optional<Ranking> ranking;
  };

  std::size_t drain(std::size_t stage, bool& ended) noexcept;
  // A stage's barrier, or its end, arrived: once every stage's is in, notes this thread's state
  // and completes the checkpoint. Cold: once per checkpoint.
  [[gnu::cold]] void alignBarrier() noexcept;
  void snapshot(std::string& out) const;
  PipelineState makeState(const PipelinePlan& plan) const;
  // A reconfiguration's barrier is in from every stage: sends the markers of the pipelines it
  // drops (every stage has flushed them) and switches to its set. A pipeline kept goes on as it
  // was; a changed one (same name) goes on with its seq, so subscribers see no gap.
  void reconfigure(const Reconfiguration& change);
  void publish(const RecordHeader* h, std::int64_t wall) noexcept;
  // Ranked pipelines: keeps the result in its window, among the best so far.
  void hold(PipelineState& pipeline, const RecordHeader* h);
  // Sends one result: the pipeline's prefix, its seq, `tail` (with "rank" added to its values
  // when rank > 0).
  void send(std::uint16_t p, std::string_view topic, std::string_view tail, std::uint8_t kind,
            std::int64_t fired_at, std::int64_t wall, std::uint64_t rank) noexcept;
  // Sends a complete window's ranked results, best first; returns how many.
  std::size_t sendRanked(std::uint16_t p, OpenWindow& window);
  void sendMarkers(PipelineState& pipeline) noexcept;
  void observeLatency(PipelinePublishStats& stats, std::int64_t nanos) noexcept;

  std::vector<PipelineState> pipelines_;
  std::vector<Ring*> rings_;
  std::vector<int> stage_tiers_;
  std::vector<ResultOutput*> outputs_;
  PublisherStats& stats_;
  std::vector<PipelinePublishStats*> pipeline_stats_;
  CommitBoard* commits_;  // null when no source commits
  CheckpointBoard* checkpoints_ = nullptr;
  std::uint64_t barrier_ = 0;     // the checkpoint whose barriers are arriving, 0 when none
  std::vector<bool> at_barrier_;  // per stage: its barrier is in; its ring waits for the rest
  std::size_t parts_due_ = 0;     // stages whose part of the last checkpoint is still to come
  std::vector<bool> ended_;       // per stage
  RecordReader reader_;
  std::string payload_;
  std::atomic<std::int64_t> heartbeat_{0};
  // Commit marks whose results some output has not yet made safe (oldest first), with each
  // output's position at the mark.
  struct PendingAck {
    std::uint16_t source;
    std::size_t stage;
    std::uint64_t seq;
    std::vector<std::uint64_t> positions;
  };
  std::deque<PendingAck> pending_acks_;
  // Acknowledges the pending marks whose results every output has made safe, in order.
  void settleAcks() noexcept;
  Doorbell doorbell_;
  std::int64_t idle_spin_ns_ = 0;  // setIdleSpin()
};

}  // namespace rivulet::pipeline
