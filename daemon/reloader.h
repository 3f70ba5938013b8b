// Reloader: a live reload (SIGHUP, the unit's ExecReload=). It reads the config file again; when
// the file is invalid, or changes what only a restart can (sources, the daemon section but its
// log level), the running config stays and the errors are logged and counted. Otherwise the
// engine switches to the file's pipelines at its next barrier (pipeline/reconfiguration.h):
// pipelines whose definition is unchanged keep their window state; added ones start; removed
// and changed ones are flushed as partial first.
//
// Thread contract: request() and tick() on the control thread (the daemon's main thread); the
// stats on any.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/checkpoints/checkpointer.h"
#include "daemon/engine.h"
#include "daemon/service/service.h"

namespace rivulet::daemon {

struct ReloadStats {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> failed{0};  // invalid, or needing a restart
  std::atomic<bool> last_ok{true};
  // Wall clock (ns) of the running config's load: by main at start, then by each reload applied.
  std::atomic<std::int64_t> last_applied_at{0};
};

class Reloader {
 public:
  // `checkpointer` may be null (no daemon.checkpoint); `stats` outlives the reloader.
  Reloader(std::string path, Engine& engine, Service& service, Checkpointer* checkpointer,
           ReloadStats& stats);

  // SIGHUP: reads and checks the file; a valid one is applied by the next ticks.
  void request();
  // Each turn of the main loop: starts the switch once no checkpoint's barrier is in flight, and
  // reports it once every thread has made it. `steady` is the monotonic clock (ns).
  void tick(std::int64_t steady);

 private:
  void refuse();

  const std::string path_;
  Engine& engine_;
  Service& service_;
  Checkpointer* checkpointer_;
  std::optional<config::Config> pending_;  // valid, waiting for the board to be idle
  bool switching_ = false;                 // its barrier is in flight
  ReloadStats& stats_;
};

}  // namespace rivulet::daemon
