#include "daemon/reloader.h"

#include "config/loader.h"
#include "daemon/log.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Reloader::Reloader(std::string path, Engine& engine, Service& service, Checkpointer* checkpointer,
                   ReloadStats& stats)
    : path_(std::move(path)),
      engine_(engine),
      service_(service),
      checkpointer_(checkpointer),
      stats_(stats) {}

void Reloader::request() {
  service_.reloading();
  logInfo("SIGHUP: reloading " + path_);
  config::LoadResult loaded = config::loadFile(path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) logError("reload: " + e.toString());
    logError("reload: " + path_ + " is invalid; the running configuration stays");
    refuse();
    return;
  }
  const std::vector<std::string> restart = engine_.restartNeeded(*loaded.config);
  if (!restart.empty()) {
    logError("reload: " + path_ + " changes what needs a restart (" + joined(restart) +
             "); the running configuration stays");
    refuse();
    return;
  }
  LogLevel level = LogLevel::kInfo;
  if (!parseLogLevel(loaded.config->daemon.log_level, level)) {  // the loader checked it
    refuse();
    return;
  }
  // Tables whose lookups now read more columns are read again now, with them: the running plan
  // reads columns by name, so the new versions serve it as well.
  if (const std::vector<std::string> errors = engine_.tables().update(loaded.config->tables);
      !errors.empty()) {
    for (const std::string& e : errors) logError("reload: " + e);
    logError("reload: a table cannot be read; the running configuration stays");
    refuse();
    return;
  }
  pending_ = std::move(loaded.config);  // replaces one not started yet: the file is newer
  tick(pipeline::steadyNanos());
}

void Reloader::refuse() {
  stats_.failed.fetch_add(1, std::memory_order_relaxed);
  stats_.last_ok.store(false, std::memory_order_relaxed);
  if (!pending_ && !switching_) service_.reloaded(pipeline::steadyNanos());
}

void Reloader::tick(std::int64_t steady) {
  if (switching_ && engine_.reloadDone()) {
    switching_ = false;
    stats_.applied.fetch_add(1, std::memory_order_relaxed);
    stats_.last_ok.store(true, std::memory_order_relaxed);
    stats_.last_applied_at.store(pipeline::wallNanos(), std::memory_order_relaxed);
    logInfo("reload: applied");
    if (!pending_) service_.reloaded(steady);
  }
  if (!pending_ || switching_) return;
  if (pending_->pipelines == engine_.config().pipelines) {
    LogLevel level = LogLevel::kInfo;
    parseLogLevel(pending_->daemon.log_level, level);
    setLogLevel(level);
    pending_.reset();
    stats_.applied.fetch_add(1, std::memory_order_relaxed);
    stats_.last_ok.store(true, std::memory_order_relaxed);
    stats_.last_applied_at.store(pipeline::wallNanos(), std::memory_order_relaxed);
    logInfo("reload: pipelines unchanged");
    service_.reloaded(steady);
    return;
  }
  const std::optional<ReloadPlan> plan = engine_.beginReload(*pending_);
  if (!plan) return;  // a checkpoint's barrier is in flight: at a later tick
  LogLevel level = LogLevel::kInfo;
  parseLogLevel(pending_->daemon.log_level, level);
  setLogLevel(level);
  pending_.reset();
  switching_ = true;
  if (checkpointer_ != nullptr) checkpointer_->setFingerprint(engine_.fingerprint());
  std::string what;
  const auto note = [&](const char* verb, const std::vector<std::string>& names) {
    if (!names.empty()) what += std::string(what.empty() ? "" : "; ") + verb + " " + joined(names);
  };
  note("keeping", plan->kept);
  note("adding", plan->added);
  note("changing (flushed as partial, started afresh)", plan->changed);
  note("removing (flushed as partial)", plan->removed);
  logInfo("reload: switching pipelines at the next barrier: " + what);
}

}  // namespace rivulet::daemon
