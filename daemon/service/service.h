// Service: the daemon as a systemd service — what main() tells the service manager, and when.
// READY=1 once everything runs, a STATUS= line refreshed every few seconds, RELOADING=1 then
// READY=1 around a SIGHUP, STOPPING=1 when a stop signal arrives or the input ends, and the
// watchdog keep-alive while every engine thread makes progress (daemon/service/watchdog.h). A
// stalled thread is logged once, and named in the status line until it moves again. The HTTP
// endpoint reads the same state (/ready) and stall limit (/healthz).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/engine.h"
#include "daemon/service/notify.h"
#include "daemon/service/watchdog.h"

namespace rivulet::daemon {

// Main thread only, but for state() and stallLimit(); `now` is the steady clock (ns).
class Service {
 public:
  static constexpr std::int64_t kStatusEveryNs = 2'000'000'000;

  // What the service manager has been told: kReady from READY=1 to STOPPING=1.
  enum class State : std::uint8_t { kStarting, kReady, kStopping };

  Service(const Engine& engine, ServiceNotifier& notifier);

  // After Engine::start() and the metrics server are up.
  void ready(std::int64_t now);
  // Each turn of the main loop (at least every ~50 ms): keep-alive, stalls, the status line.
  void tick(std::int64_t now);
  // A reload (SIGHUP) begins: RELOADING=1.
  void reloading();
  // It is over, applied or refused: READY=1 with the running status.
  void reloaded(std::int64_t now);
  // A stop signal, or every source has ended; only the first call notifies.
  void stopping(std::string_view why);
  bool isStopping() const noexcept { return state() == State::kStopping; }
  // Any thread (the HTTP endpoint's /ready).
  State state() const noexcept { return state_.load(std::memory_order_relaxed); }
  // How long an engine thread may go without a heartbeat before it counts as stalled: the
  // watchdog's interval, or Watchdog::kStallLimitNs without one. Any thread (/healthz).
  std::int64_t stallLimit() const noexcept { return Watchdog::limitFor(notifier_.watchdogNanos()); }
  // Every engine thread has returned: a last keep-alive, so that closing the result socket (up to
  // its linger) does not outlast the watchdog.
  void finished();

 private:
  std::string runningStatus(std::int64_t now);
  std::string stalledStatus() const;

  const Engine& engine_;
  ServiceNotifier& notifier_;
  std::optional<Watchdog> watchdog_;
  // Written by the main thread, read by the HTTP thread, which only reports it: relaxed, since
  // nothing else is read through it.
  std::atomic<State> state_{State::kStarting};
  std::int64_t next_status_ = 0;
  std::int64_t rate_since_ = 0;  // when events_ was read
  std::uint64_t events_ = 0;     // events taken by all sources, at rate_since_
};

}  // namespace rivulet::daemon
