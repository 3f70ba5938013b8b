// Daemon: rivuletd's sequence once its config is loaded. The constructor restores the checkpoint
// (or, told to, moves a bad one aside), builds the engine with every socket bound, the
// checkpointer and the HTTP server, and logs where they listen; run() starts the engine, turns
// the main loop (signals, checkpoints, reloads, the service manager) until the input ends or a
// stop signal, and shuts down in order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/checkpoints/checkpointer.h"
#include "daemon/cli.h"
#include "daemon/engine.h"
#include "daemon/http/http_server.h"
#include "daemon/http/metrics.h"
#include "daemon/refusal_log.h"
#include "daemon/reloader.h"
#include "daemon/service/notify.h"
#include "daemon/service/service.h"
#include "daemon/signals.h"

namespace rivulet::daemon {

// The daemon cannot start (exit code kExitStartFailed); what() is the reason, which the caller
// logs after "cannot start: ".
class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thread contract: construction, run() and destruction on one thread, the one `signals` is
// delivered to; the accessors on any.
class Daemon {
 public:
  // How long a stop waits for its last checkpoint (systemd's TimeoutStopSec is 30 s).
  static constexpr std::int64_t kStopCheckpointTimeoutNs = 20'000'000'000;
  // The main loop turns at least this often: signals, the watchdog's keep-alive, the status line.
  static constexpr std::int64_t kTickNs = 50'000'000;

  // Uses options.config (the file a reload reads again) and options.discard_checkpoint. Throws
  // StartError when the checkpoint is corrupt or from another config (and is not to be
  // discarded), or a socket, file or cpu cannot be had.
  Daemon(const Options& options, const config::Config& config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until every source has ended or a stop signal, then stops in order: the last checkpoint
  // (with daemon.checkpoint) or open windows published as partial, the threads joined, the final
  // counts logged, the HTTP server stopped, the result socket closed. Returns the exit code.
  // Called once.
  int run(SignalSource& signals);

  // A second stop signal came while stopping: run() returned at once, and the caller is to exit
  // without destroying the daemon (which would wait for the drain).
  bool abandoned() const noexcept { return abandoned_; }
  // The metrics server's TCP port (0 on a unix socket).
  std::uint16_t metricsPort() const noexcept { return http_->port(); }
  // The result endpoints as bound (tcp://host:0 resolved); before run() returns.
  const std::vector<std::string>& publishEndpoints() const { return engine_->publishEndpoints(); }

 private:
  // The checkpoint in daemon.checkpoint.dir, if any and good; throws StartError on a bad one,
  // unless `discard`.
  static std::optional<CheckpointData> restore(const config::Config& config, bool discard);
  void build(const config::Config& config);
  void logEndpoints(const config::Config& config) const;
  // A stop signal: the last checkpoint or a drain. False on a second one: exit at once.
  bool stop(const char* signal_name);

  const std::string config_path_;
  ServiceNotifier notifier_;  // reads the environment: before any thread exists
  ReloadStats reload_stats_;
  std::optional<CheckpointData> restored_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::shared_ptr<EngineMetrics> metrics_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<HttpServer> http_;  // /metrics, /healthz, /ready; reads the engine and service
  bool stopping_ = false;
  bool abandoned_ = false;
};

}  // namespace rivulet::daemon
