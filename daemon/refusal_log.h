// RefusalLog: the warnings about refused events. The source threads leave a sample of a refused
// event per (source or pipeline, reason) in a mailbox (pipeline/model/refusal_sample.h); the main
// loop calls tick() every turn and writes at most one line per mailbox per interval, with the
// sample's first bytes and how many more were refused since the line before. So a stream of bad
// events is seen at once, named, and never floods the log.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/model/stats.h"

namespace rivulet::daemon {

class Engine;
struct PipelineSet;

// One mailbox and the counter of the refusals it samples.
struct RefusalSlot {
  std::string who;    // "source trades", "pipeline strmath (source trades)"
  std::string whose;  // what the refusal meant, after the reason: "", "the other pipelines took it"
  pipeline::ErrorReason reason = pipeline::ErrorReason::kNone;
  const pipeline::Counter* count = nullptr;
  pipeline::RefusalSample* sample = nullptr;
};

// Every mailbox of `engine`'s sources and of the pipelines in `set` (the engine's current one).
std::vector<RefusalSlot> refusalSlots(Engine& engine, const PipelineSet& set);

// Thread contract: one thread (the daemon's main loop) calls tick().
class RefusalLog {
 public:
  static constexpr std::int64_t kInterval = 10'000'000'000;  // ns between two lines of one slot
  using Write = std::function<void(std::string_view line)>;

  explicit RefusalLog(Write write, std::int64_t interval = kInterval);

  // Writes the lines due at `now` (a steady clock, ns) for `slots`. A slot is known by its who and
  // reason, so the slots may be rebuilt between calls (a reload) without repeating lines early.
  void tick(std::span<const RefusalSlot> slots, std::int64_t now);

 private:
  struct Seen {
    std::int64_t logged_at = 0;
    std::uint64_t counted = 0;  // the slot's count when it was last logged
    bool logged = false;
  };

  Write write_;
  std::int64_t interval_;
  std::map<std::string, Seen> seen_;  // by who and reason
};

// Ties a RefusalLog to an engine: rebuilds the slots when a reload changes the pipelines.
class EngineRefusalLog {
 public:
  explicit EngineRefusalLog(Engine& engine);
  void tick(std::int64_t now);

 private:
  Engine& engine_;
  RefusalLog log_;
  std::shared_ptr<const PipelineSet> set_;
  std::vector<RefusalSlot> slots_;
};

// `text` as a log can show it: printable ASCII as is, anything else as \xNN.
std::string printable(std::string_view text);

}  // namespace rivulet::daemon
