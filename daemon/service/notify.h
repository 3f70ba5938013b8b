// ServiceNotifier: the daemon's side of systemd's notify protocol (sd_notify(3)) — readiness,
// a status line, reload and stop notices, and the watchdog keep-alive. When the service manager
// passed no NOTIFY_SOCKET (a shell, a test, Type=simple) every call is a no-op.
#pragma once

#include <cstdint>
#include <string_view>

namespace rivulet::daemon {

// Main thread only: libsystemd reads the environment on each call, and the messages of one sender
// must stay in order (READY=1 before STATUS=, STOPPING=1 last).
class ServiceNotifier {
 public:
  // Reads WATCHDOG_USEC and WATCHDOG_PID (sd_watchdog_enabled(3)) once; call before any thread
  // exists. The environment is left as it is: the daemon starts no child that could inherit it.
  ServiceNotifier();

  // Whether the service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const noexcept { return enabled_; }
  // The watchdog timeout in ns, 0 when the manager expects no keep-alive from this process.
  std::int64_t watchdogNanos() const noexcept { return watchdog_ns_; }

  // READY=1: every thread runs, every socket is bound. Sent again after a reload.
  void ready(std::string_view status);
  // STATUS=: one line for `systemctl status`.
  void status(std::string_view status);
  // RELOADING=1, with the MONOTONIC_USEC newer managers use to match it with the READY=1 after.
  void reloading(std::string_view status);
  // STOPPING=1: draining and publishing the last windows; the process exits next.
  void stopping(std::string_view status);
  // WATCHDOG=1: the keep-alive.
  void watchdog();

 private:
  void send(std::string_view state, std::string_view status);

  bool enabled_ = false;
  std::int64_t watchdog_ns_ = 0;
};

}  // namespace rivulet::daemon
