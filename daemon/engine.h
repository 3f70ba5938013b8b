// Engine: the running daemon's data plane, built from a Config — rings, sources, stages, the
// publisher and their threads — and the read-only view the metrics exporter needs.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "config/config.h"
#include "connectors/kafka_source.h"
#include "connectors/source.h"
#include "connectors/zmq_output.h"
#include "daemon/checkpoint_file.h"
#include "pipeline/aggregate.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/plan.h"
#include "pipeline/publisher.h"
#include "pipeline/record.h"
#include "pipeline/stage.h"
#include "pipeline/stats.h"

namespace rivulet::daemon {

// The number of stage threads `config` runs: daemon.stages, by default cores - 1 (at least 1).
int resolvedStages(const config::Config& config);
// What checkpointed state's meaning depends on: the number of stages (keys are spread by hash
// over them), each pipeline's window, key and aggregates, and the sources (positions are per
// source). A checkpoint with another fingerprint is not restored.
std::uint64_t checkpointFingerprint(const config::Config& config);

// One engine thread as the watchdog sees it.
struct ThreadHeartbeat {
  std::string name;      // "source <name>", "stage <i>" or "publisher"
  std::int64_t age = 0;  // ns since its last heartbeat (since start() if it has not beaten yet)
};

class Engine {
 public:
  // Builds everything and binds every socket; throws std::runtime_error with a message for the
  // operator when something cannot start (port in use, unreadable file).
  // With `restored` (a checkpoint read for this config), the stages, the publisher and the
  // sources resume from it; throws when a part does not fit (the checkpoint is then unusable).
  explicit Engine(const config::Config& config, const CheckpointData* restored = nullptr);
  ~Engine();

  void start();
  // Stops the sources; stages drain, flush open windows as partial, and the publisher sends them.
  void requestStop();
  // True once every thread has finished (bounded inputs done, or stopped and drained).
  bool finished() const;
  void join();

  // ---- for the metrics exporter (any thread) ----
  const config::Config& config() const { return config_; }
  const std::vector<pipeline::PipelinePlan>& pipelines() const { return plans_; }
  const pipeline::SourceStats& sourceStats(std::size_t source) const {
    return *source_stats_[source];
  }
  std::size_t stageCount() const { return stages_.size(); }
  const pipeline::Stage& stage(std::size_t stage) const { return *stages_[stage]; }
  const pipeline::PipelineStageStats& stageStats(std::size_t pipeline, std::size_t stage) const {
    return *stage_stats_[pipeline * stages_.size() + stage];
  }
  const pipeline::PublisherStats& publisherStats() const { return publisher_stats_; }
  std::uint64_t published(std::size_t pipeline) const {
    return published_[pipeline]->load(std::memory_order_relaxed);
  }
  const std::vector<std::string>& publishEndpoints() const { return zmq_->endpoints(); }
  // A kafka source's consumer metrics; nullptr for other kinds.
  const connectors::KafkaStats* kafkaStats(std::size_t source) const {
    return kafka_stats_[source].get();
  }
  // Checkpoints (daemon.checkpoint): the board the threads leave their parts on, null without.
  pipeline::CheckpointBoard* checkpoints() { return checkpoints_.get(); }
  std::uint64_t fingerprint() const { return fingerprint_; }
  // The source itself, for what it says about its set-up (where it listens, warnings).
  const connectors::Source& source(std::size_t source) const { return *sources_[source]; }

  // ---- for the watchdog and the metrics exporter (any thread) ----
  // Every thread still running (none before start()), with the age of its heartbeat at `now`
  // (steady clock, ns). Sources, stages and the publisher each store a heartbeat at least every
  // ~100 ms while they work, wait for input or wait on a full ring, so an age well past that
  // means the thread is stuck.
  std::vector<ThreadHeartbeat> heartbeats(std::int64_t now) const;
  // The names of the running threads whose heartbeat is older than `limit` (ns).
  std::vector<std::string> stalledThreads(std::int64_t now, std::int64_t limit) const;
  // True once every source thread has returned: bounded input done, or stopped.
  bool sourcesEnded() const;

 private:
  // A thread's identity for the watchdog. Built in the constructor, before the metrics server can
  // ask; only `exited` changes, set by the thread itself as it returns.
  struct Worker {
    std::string name;
    std::function<std::int64_t()> heartbeat;
    bool source = false;
    std::atomic<bool> exited{false};
  };

  void runThread(Worker& worker, const std::string& thread_name, int cpu,
                 std::function<void()> body);

  const config::Config config_;
  std::vector<pipeline::PipelinePlan> plans_;
  std::vector<pipeline::Aggregates> aggregates_;
  std::vector<std::unique_ptr<pipeline::SourceStats>> source_stats_;
  std::vector<std::unique_ptr<connectors::KafkaStats>> kafka_stats_;  // per source, or null
  std::vector<std::unique_ptr<pipeline::PipelineStageStats>> stage_stats_;
  pipeline::PublisherStats publisher_stats_;
  std::vector<std::unique_ptr<pipeline::Counter>> published_;
  // rings_[source * stages + stage], then one per stage to the publisher.
  std::vector<std::unique_ptr<pipeline::Ring>> source_rings_;
  std::vector<std::unique_ptr<pipeline::Ring>> result_rings_;
  std::vector<std::unique_ptr<connectors::Source>> sources_;
  std::vector<std::unique_ptr<pipeline::Stage>> stages_;
  zmq::context_t context_;
  std::unique_ptr<connectors::ZmqOutput> zmq_;
  std::vector<std::unique_ptr<pipeline::ResultOutput>> outputs_;
  std::unique_ptr<pipeline::CommitBoard> commits_;
  std::unique_ptr<pipeline::CheckpointBoard> checkpoints_;
  std::uint64_t fingerprint_ = 0;
  std::unique_ptr<pipeline::Publisher> publisher_;
  std::vector<std::jthread> source_threads_;
  std::vector<std::jthread> threads_;  // stages and publisher
  std::vector<int> stage_cpus_;
  std::vector<int> source_cpus_;
  int publisher_cpu_ = -1;
  std::atomic<int> running_{0};
  // stages, the publisher, then sources; in the order start() runs them.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::int64_t> started_at_{0};  // steady ns; 0 until start()
};

}  // namespace rivulet::daemon
