#include "daemon/service/service.h"

#include <cstdio>

#include "daemon/log.h"

namespace rivulet::daemon {
namespace {

std::string counted(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string seconds(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(ns) * 1e-9);
  return text;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::uint64_t sourceEvents(const Engine& engine) {
  std::uint64_t total = 0;
  for (std::size_t s = 0; s < engine.config().sources.size(); ++s) {
    total += engine.sourceStats(s).events.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace

Service::Service(const Engine& engine, ServiceNotifier& notifier)
    : engine_(engine), notifier_(notifier) {}

void Service::ready(std::int64_t now) {
  watchdog_.emplace(
      notifier_.watchdogNanos(),
      [this](std::int64_t at, std::int64_t limit) { return engine_.stalledThreads(at, limit); },
      now);
  if (notifier_.watchdogNanos() > 0) {
    logInfo("watchdog: keep-alive every " + seconds(notifier_.watchdogNanos() / 2) +
            " while every thread makes progress");
  }
  events_ = sourceEvents(engine_);
  rate_since_ = now;
  next_status_ = now + kStatusEveryNs;
  notifier_.ready(runningStatus(now));
  state_.store(State::kReady, std::memory_order_relaxed);
}

void Service::tick(std::int64_t now) {
  if (!watchdog_) return;
  const Watchdog::Tick tick = watchdog_->tick(now);
  if (tick.ping) notifier_.watchdog();
  for (const std::string& name : tick.stalled) {
    logWarn("watchdog: " + name + " made no progress for over " + seconds(watchdog_->limit()) +
            (notifier_.watchdogNanos() > 0
                 ? "; withholding the keep-alive, so that the service manager restarts rivuletd"
                 : ""));
  }
  for (const std::string& name : tick.recovered) {
    logInfo("watchdog: " + name + " makes progress again");
  }
  if (isStopping()) return;  // the status line says so until the end
  const bool changed = !tick.stalled.empty() || !tick.recovered.empty();
  if (changed || now >= next_status_) {
    notifier_.status(watchdog_->stalled().empty() ? runningStatus(now) : stalledStatus());
    next_status_ = now + kStatusEveryNs;
  }
}

void Service::reloading() { notifier_.reloading("reloading the configuration"); }

void Service::reloaded(std::int64_t now) { notifier_.ready(runningStatus(now)); }

void Service::stopping(std::string_view why) {
  if (isStopping()) return;
  state_.store(State::kStopping, std::memory_order_relaxed);
  notifier_.stopping(why);
}

void Service::finished() {
  if (notifier_.watchdogNanos() > 0) notifier_.watchdog();
}

// "running: 3 pipelines, 2 stages, 812345 events/s": the rate over the time since the last call.
std::string Service::runningStatus(std::int64_t now) {
  std::string status = "running: " + counted(engine_.pipelineSet()->plans.size(), "pipeline") +
                       ", " + counted(engine_.stageCount(), "stage");
  const std::uint64_t events = sourceEvents(engine_);
  if (now > rate_since_) {
    const double rate =
        static_cast<double>(events - events_) * 1e9 / static_cast<double>(now - rate_since_);
    status += ", " + std::to_string(static_cast<std::uint64_t>(rate + 0.5)) + " events/s";
  }
  events_ = events;
  rate_since_ = now;
  return status;
}

std::string Service::stalledStatus() const {
  return "stalled: " + joined(watchdog_->stalled()) + " (no progress for over " +
         seconds(watchdog_->limit()) + ")" +
         (notifier_.watchdogNanos() > 0 ? ", keep-alive withheld" : "");
}

}  // namespace rivulet::daemon
