#include "daemon/service/watchdog.h"

#include <algorithm>

namespace rivulet::daemon {
namespace {

// The names in `a` that are not in `b`.
std::vector<std::string> missingFrom(const std::vector<std::string>& a,
                                     const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const std::string& name : a) {
    if (std::find(b.begin(), b.end(), name) == b.end()) out.push_back(name);
  }
  return out;
}

}  // namespace

Watchdog::Watchdog(std::int64_t interval_ns, StallCheck check, std::int64_t start)
    : pings_(interval_ns > 0),
      limit_(limitFor(interval_ns)),
      check_(std::move(check)),
      next_check_(start) {}

Watchdog::Tick Watchdog::tick(std::int64_t now) {
  Tick tick;
  if (now < next_check_) return tick;
  next_check_ = now + limit_ / 2;
  std::vector<std::string> stalled = check_(now, limit_);
  tick.stalled = missingFrom(stalled, stalled_);
  tick.recovered = missingFrom(stalled_, stalled);
  stalled_ = std::move(stalled);
  tick.ping = pings_ && stalled_.empty();
  return tick;
}

}  // namespace rivulet::daemon
