// Publisher: the one thread that hands results to the outputs (the ZeroMQ socket is not
// thread-safe, and one writer keeps each pipeline's seq gap-free). It reads every stage's ring,
// numbers the results per pipeline, completes the JSON payload and sends it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/plan.h"
#include "pipeline/record.h"
#include "pipeline/stats.h"

namespace rivulet::pipeline {

// Where results go: the ZeroMQ socket, the JSON-lines file. Called on the publisher thread only.
class ResultOutput {
 public:
  virtual ~ResultOutput() = default;
  // One result: `topic` as DESIGN §3 (pipeline/key.../), `payload` the JSON object.
  virtual void send(std::string_view topic, std::string_view payload) = 0;
  // No results are waiting: flush buffers, serve housekeeping (e.g. subscriptions).
  virtual void idle() {}
};

class Publisher {
 public:
  // published[p]: results counter of pipeline p.
  Publisher(std::span<const PipelinePlan> pipelines, std::vector<Ring*> stage_rings,
            std::vector<ResultOutput*> outputs, PublisherStats& stats,
            std::vector<Counter*> published);

  // The thread body: runs until every stage has sent kEnd and its results are out.
  void run() noexcept;

  std::int64_t heartbeat() const noexcept { return heartbeat_.load(std::memory_order_relaxed); }

 private:
  std::size_t drain(Ring& ring, bool& ended) noexcept;
  void publish(const RecordHeader* h) noexcept;
  void observeLatency(std::int64_t nanos) noexcept;

  std::vector<std::string> prefixes_;  // per pipeline: {"pipeline":"name","seq":
  std::vector<Ring*> rings_;
  std::vector<ResultOutput*> outputs_;
  PublisherStats& stats_;
  std::vector<Counter*> published_;
  std::vector<std::uint64_t> seq_;
  RecordReader reader_;
  std::string payload_;
  std::atomic<std::int64_t> heartbeat_{0};
};

}  // namespace rivulet::pipeline
