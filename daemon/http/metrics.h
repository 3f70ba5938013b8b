// Metrics: the DESIGN §5 families, built at scrape time from the engine's counters. The hot path
// only bumps plain atomics (pipeline/model/stats.h); prometheus-cpp's own counters would put a CAS
// loop on a shared cache line into every event.
#pragma once

#include <prometheus/collectable.h>

#include <string>
#include <vector>

#include "daemon/checkpoints/checkpointer.h"
#include "daemon/engine.h"
#include "daemon/reloader.h"

namespace rivulet::daemon {

class EngineMetrics final : public prometheus::Collectable {
 public:
  explicit EngineMetrics(const Engine& engine) : engine_(engine) {}
  std::vector<prometheus::MetricFamily> Collect() const override;
  // With daemon.checkpoint: the checkpoints taken. Before the exposer serves.
  void observeCheckpoints(const CheckpointStats& stats) { checkpoints_ = &stats; }
  // The live reloads. Before the exposer serves.
  void observeReloads(const ReloadStats& stats) { reloads_ = &stats; }

 private:
  const Engine& engine_;
  const CheckpointStats* checkpoints_ = nullptr;
  const ReloadStats* reloads_ = nullptr;
};

// One counter's series and value.
struct FinalCount {
  std::string text;  // `name{label="value",...} value`
  double value = 0;
};

// The engine's counters, counters only (and not the seconds ones): what the daemon logs as
// "final count:" lines once every engine thread has been joined, when no event is in flight and
// the sums are exact (a scrape may fall between an event's read and its aggregation).
std::vector<FinalCount> finalCounts(const EngineMetrics& metrics);

// Resident set size of this process in bytes (from /proc/self/statm); 0 if unreadable.
double residentMemoryBytes();

}  // namespace rivulet::daemon
