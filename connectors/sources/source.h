// Source: one input of the daemon, run on its own thread. A source reads, parses and hands events
// to its EventRouter, and ends its stream (router.end) before run() returns.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/commit_board.h"
#include "pipeline/event_router.h"

namespace rivulet::connectors {

class Source {
 public:
  virtual ~Source() = default;
  // The thread body. Returns at the end of a bounded input, or soon after `stop` is requested.
  virtual void run(std::stop_token stop) = 0;
  // True if the input ends by itself (generator with count, file without follow).
  virtual bool bounded() const = 0;
  // For the start-up log: where the source listens, with the port a port 0 got ("listening on
  // 127.0.0.1:7000", "listening on tcp://127.0.0.1:41234"), or what it connects to; empty when
  // there is nothing to say.
  virtual std::string where() const { return {}; }
  // Set-up problems worth a warning in the log (a smaller socket buffer than configured).
  virtual std::vector<std::string> warnings() const { return {}; }
  // Resumes from `position`, which this kind of source noted for a checkpoint (through
  // EventRouter::setPosition). Before run(); false if it is not one of its positions. A source
  // without positions (tcp, udp, zmq: what was in flight is gone) takes only the empty one.
  virtual bool restore(std::string_view position) { return position.empty(); }
};

struct KafkaStats;

// What a source may need besides its config and router.
struct SourceContext {
  std::size_t index = 0;  // among the config's sources
  pipeline::CommitBoard* commits = nullptr;
  KafkaStats* kafka = nullptr;  // a kafka source's metrics
  // With daemon.checkpoint: a kafka source commits offsets only once a checkpoint holding them
  // is durable.
  pipeline::CheckpointBoard* checkpoints = nullptr;
  // The source's counters, for what a source counts beside its router (tcp, udp: bytes read,
  // connected clients); null: not counted.
  pipeline::SourceStats* stats = nullptr;
};

}  // namespace rivulet::connectors
