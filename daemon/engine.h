// Engine: the running daemon's data plane, built from a Config — rings, sources, stages, the
// publisher and their threads — and the read-only view the metrics exporter needs.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "config/config.h"
#include "connectors/kafka/kafka_output.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/outputs/selected_output.h"
#include "connectors/sources/source.h"
#include "connectors/zmq/zmq_output.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/tables/table_set.h"
#include "pipeline/aggregates/aggregate.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/stats.h"
#include "pipeline/publisher.h"
#include "pipeline/reconfiguration.h"
#include "pipeline/stage.h"

namespace rivulet::daemon {

// The number of stage threads `config` runs: daemon.stages, by default cores - 1 (at least 1).
int resolvedStages(const config::Config& config);
// What checkpointed state's meaning depends on: the number of stages (keys are spread by hash
// over them), each pipeline's window, key and aggregates, and the sources (positions are per
// source). A checkpoint with another fingerprint is not restored.
std::uint64_t checkpointFingerprint(const config::Config& config);

// The pipelines an engine runs: those it started with, then each live reload's. Immutable once
// built; a pipeline a reload keeps shares its counters with the set before, so its metrics go on.
struct PipelineSet {
  std::vector<config::PipelineConfig> configs;
  std::vector<pipeline::PipelinePlan> plans;
  std::vector<pipeline::Aggregates> aggregates;  // never reallocated: the stages point into it
  // [pipeline * stages + stage], over the stages of every tier (Engine::stageCount())
  std::vector<std::shared_ptr<pipeline::PipelineStageStats>> stage_stats;
  std::vector<std::shared_ptr<pipeline::PipelinePublishStats>> publish_stats;  // per pipeline
  // [pipeline * routers + router]: the events each pipeline refused, counted by the router that
  // routes them: each source's, then each feed of a stream of results (Engine::routerName()).
  std::vector<std::shared_ptr<pipeline::PipelineSourceStats>> source_stats;
  // How the threads switch to this set from the one before (a reload's; unused for the first).
  pipeline::Reconfiguration change;
};

// What a reload did, by pipeline name.
struct ReloadPlan {
  std::vector<std::string> kept, added, removed, changed;
};

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

  // ---- live reload (the control thread: the one that calls start()) ----
  // What `next` changes outside its pipelines and daemon.log_level: such changes need a
  // restart. One line per changed section or source; empty when a reload can apply `next`.
  std::vector<std::string> restartNeeded(const config::Config& next) const;
  // Starts switching to next's pipelines (restartNeeded(next) empty) and says what changes.
  // Nothing if a barrier (a checkpoint, the last reload) is still in flight: try again later.
  std::optional<ReloadPlan> beginReload(const config::Config& next);
  // True once every thread has switched to the set of the last beginReload() (or has ended).
  bool reloadDone();

  // ---- for the metrics exporter (any thread) ----
  // The sources and daemon sections never change; the pipelines may (a reload): other threads
  // read them from pipelineSet().
  const config::Config& config() const { return config_; }
  // The pipelines running now; during a reload, the set being switched to.
  std::shared_ptr<const PipelineSet> pipelineSet() const {
    std::lock_guard lock(set_mutex_);
    return set_;
  }
  const pipeline::SourceStats& sourceStats(std::size_t source) const {
    return *source_stats_[source];
  }
  // For the refusal log, which empties the stats' sample mailboxes (daemon/refusal_log.h).
  pipeline::SourceStats& sourceStats(std::size_t source) { return *source_stats_[source]; }
  std::size_t stageCount() const { return stages_.size(); }
  const pipeline::Stage& stage(std::size_t stage) const { return *stages_[stage]; }
  const pipeline::PublisherStats& publisherStats() const { return publisher_stats_; }
  const std::vector<std::string>& publishEndpoints() const { return zmq_->endpoints(); }
  // The outputs of `outputs:`, by name, with what each has taken.
  struct NamedOutput {
    std::string name;
    const connectors::SelectedOutput* output;
    const connectors::KafkaOutputStats* kafka;  // kind kafka's own counters; null for a file
  };
  const std::vector<NamedOutput>& outputs() const { return named_outputs_; }
  // A kafka source's consumer metrics; nullptr for other kinds.
  const connectors::KafkaStats* kafkaStats(std::size_t source) const {
    return kafka_stats_[source].get();
  }
  // The streams of results a pipeline reads from another (config/plan_graph.h): the upstream's
  // name and each of its stages' feeds, whose counters the metrics show as a source's.
  struct ResultStream {
    std::string name;
    std::vector<const pipeline::ResultFeed*> feeds;
  };
  const std::vector<ResultStream>& resultStreams() const { return result_streams_; }
  // How many routers there are (PipelineSet::source_stats), and what router `r` reads: "source
  // trades", or "results of per_key".
  std::size_t routerCount() const { return n_routers_; }
  std::string routerName(std::size_t r) const;
  // The lookup tables: read again by the control thread, shown by the metrics.
  TableSet& tables() { return *tables_; }
  const TableSet& tables() const { return *tables_; }
  // The board of the barriers: checkpoints (daemon.checkpoint) and reloads.
  pipeline::CheckpointBoard& checkpoints() { return *checkpoints_; }
  // checkpointFingerprint() of the running config; changes with a reload.
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
  // Called by each engine thread once it has named and pinned itself; start() waits for all.
  void placed();

  // A set of `configs`' pipelines, sharing the counters of those `previous` names (by name) in
  // `before` (null: all new).
  std::shared_ptr<PipelineSet> buildSet(std::vector<config::PipelineConfig> configs,
                                        const PipelineSet* before) const;
  // The pipelines `config` has others read, in config order: the streams of results.
  static std::vector<std::size_t> readPipelines(const config::Config& config);

  config::Config config_;  // pipelines: as of the last reload (control thread only)
  std::unique_ptr<TableSet> tables_;
  std::size_t n_stages_ = 0;      // per tier
  std::size_t n_all_stages_ = 0;  // of every tier
  // The routers: each source's, then per stream of results each upstream stage's feed
  // (sources + stream * stages + stage); their counters are per router, each with one writer.
  std::size_t n_routers_ = 0;
  mutable std::mutex set_mutex_;
  std::shared_ptr<const PipelineSet> set_;       // under set_mutex_
  std::shared_ptr<const PipelineSet> retiring_;  // the set before a reload, until it is done
  std::uint64_t reload_id_ = 0;                  // the barrier of the last reload
  std::vector<std::unique_ptr<pipeline::SourceStats>> source_stats_;
  std::vector<std::unique_ptr<connectors::KafkaStats>> kafka_stats_;  // per source, or null
  pipeline::PublisherStats publisher_stats_;
  // rings_[source * stages + stage], then one per stage to the publisher.
  std::vector<std::unique_ptr<pipeline::Ring>> source_rings_;
  std::vector<std::unique_ptr<pipeline::Ring>> result_rings_;
  std::vector<std::unique_ptr<pipeline::Ring>> feed_rings_;  // results streams, stage to stage
  std::vector<ResultStream> result_streams_;
  std::vector<std::unique_ptr<connectors::Source>> sources_;
  std::vector<std::unique_ptr<pipeline::Stage>> stages_;
  zmq::context_t context_;
  std::unique_ptr<connectors::ZmqOutput> zmq_;
  std::vector<std::unique_ptr<pipeline::ResultOutput>> outputs_;
  std::vector<NamedOutput> named_outputs_;
  std::vector<std::unique_ptr<connectors::KafkaOutputStats>> output_stats_;
  std::unique_ptr<pipeline::CommitBoard> commits_;
  std::unique_ptr<pipeline::CheckpointBoard> checkpoints_;
  std::uint64_t fingerprint_ = 0;
  std::unique_ptr<pipeline::Publisher> publisher_;
  // Asks every source, and its router, to stop (requestStop()).
  std::stop_source sources_stop_;
  std::vector<std::jthread> source_threads_;
  std::vector<std::jthread> threads_;  // stages and publisher
  std::vector<int> stage_cpus_;
  std::vector<int> source_cpus_;
  int publisher_cpu_ = -1;
  std::atomic<int> running_{0};
  // Threads that have named and pinned themselves (placed()); start() returns once all have.
  std::atomic<int> placed_{0};
  // stages, the publisher, then sources; in the order start() runs them.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::int64_t> started_at_{0};  // steady ns; 0 until start()
};

}  // namespace rivulet::daemon
