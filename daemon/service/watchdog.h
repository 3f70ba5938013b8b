// Watchdog: decides at each tick of the main loop whether to send systemd's keep-alive. It pings
// every half interval (as sd_watchdog_enabled(3) advises), but only while no engine thread has
// stalled — gone longer than the interval without a heartbeat. Withholding the ping is the point:
// the service manager then kills and restarts the daemon (WatchdogSec=, Restart=on-failure).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rivulet::daemon {

// Main thread only.
class Watchdog {
 public:
  // The names of the threads whose heartbeat is older than `limit` at `now` (steady ns):
  // Engine::stalledThreads.
  using StallCheck = std::function<std::vector<std::string>(std::int64_t now, std::int64_t limit)>;

  // Without a watchdog (interval 0) stalls are still found, with kStallLimitNs, for the log and the
  // status line; nothing is pinged.
  static constexpr std::int64_t kStallLimitNs = 10'000'000'000;
  // How long a thread may go without a heartbeat before it counts as stalled, for a watchdog of
  // `interval_ns` (0: none).
  static constexpr std::int64_t limitFor(std::int64_t interval_ns) {
    return interval_ns > 0 ? interval_ns : kStallLimitNs;
  }

  // `start` (steady ns): the first check is due then, so that the first keep-alive follows
  // READY=1 at once (the manager's timer may have run since the process started).
  Watchdog(std::int64_t interval_ns, StallCheck check, std::int64_t start);

  struct Tick {
    bool ping = false;                   // send WATCHDOG=1 now
    std::vector<std::string> stalled;    // threads found stalled that were not at the last check
    std::vector<std::string> recovered;  // threads stalled at the last check that are not now
  };
  // Cheap unless a check is due (every half limit).
  Tick tick(std::int64_t now);

  // The threads stalled at the last check, in the engine's order.
  const std::vector<std::string>& stalled() const noexcept { return stalled_; }
  // How long a thread may go without a heartbeat (ns).
  std::int64_t limit() const noexcept { return limit_; }

 private:
  const bool pings_;
  const std::int64_t limit_;
  StallCheck check_;
  std::int64_t next_check_;
  std::vector<std::string> stalled_;
};

}  // namespace rivulet::daemon
