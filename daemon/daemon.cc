#include "daemon/daemon.h"

#include <signal.h>

#include <utility>

#include "config/endpoint.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/http/operator_routes.h"
#include "daemon/log.h"
#include "daemon/version.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {

Daemon::Daemon(const Options& options, const config::Config& config)
    : config_path_(options.config), restored_(restore(config, options.discard_checkpoint)) {
  // As Prometheus' own metric of that name: the initial load counts as the first success.
  reload_stats_.last_applied_at.store(pipeline::wallNanos(), std::memory_order_relaxed);
  try {
    build(config);
  } catch (const std::exception& e) {
    throw StartError(e.what());
  }
  logEndpoints(config);
}

Daemon::~Daemon() = default;

std::optional<CheckpointData> Daemon::restore(const config::Config& config, bool discard) {
  if (!config.daemon.checkpoint) return std::nullopt;
  const std::string& dir = config.daemon.checkpoint->dir;
  CheckpointRead read = readCheckpoint(dir, checkpointFingerprint(config));
  if (read.status == CheckpointRead::Status::kOk) return std::move(read.data);
  if (read.status == CheckpointRead::Status::kNone) return std::nullopt;
  // A bad checkpoint stops the start unless told to discard it: silently starting afresh would
  // publish windows again and lose the source positions.
  const std::string what = checkpointPath(dir) + ": " + read.message;
  if (!discard) {
    throw StartError("checkpoint " + what +
                     "; start with --discard-checkpoint to move it aside and begin afresh");
  }
  std::string error;
  if (!discardCheckpoint(dir, error)) throw StartError(error);
  logWarn("checkpoint " + what + ": moved aside (--discard-checkpoint), starting afresh");
  return std::nullopt;
}

void Daemon::build(const config::Config& config) {
  engine_ = std::make_unique<Engine>(config, restored_ ? &*restored_ : nullptr);
  if (config.daemon.checkpoint) {
    std::vector<std::string> names;
    for (const auto& source : config.sources) names.push_back(source.name);
    checkpointer_ =
        std::make_unique<Checkpointer>(*config.daemon.checkpoint, engine_->checkpoints(),
                                       engine_->fingerprint(), std::move(names));
  }
  if (restored_) {
    logInfo("resuming from checkpoint " + std::to_string(restored_->id) + " in " +
            config.daemon.checkpoint->dir);
  }
  metrics_ = std::make_shared<EngineMetrics>(*engine_);
  if (checkpointer_) metrics_->observeCheckpoints(checkpointer_->stats());
  metrics_->observeReloads(reload_stats_);
  service_ = std::make_unique<Service>(*engine_, notifier_);
  HttpRoutes routes = operatorRoutes(metrics_, *engine_, *service_);
  try {
    if (const std::string& path = config.daemon.metrics_socket; !path.empty()) {
      // No TCP port at all: a socket is chosen where no port should be open.
      http_ = std::make_unique<HttpServer>(path, std::move(routes));
      logInfo("metrics on unix:" + path + " (/metrics, /healthz, /ready)");
    } else {
      http_ = std::make_unique<HttpServer>(config.daemon.metrics, std::move(routes));
      logInfo("metrics on http://" +
              config::formatEndpoint({config.daemon.metrics.host, http_->port()}) +
              "/metrics (also /healthz, /ready)");
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("metrics: ") + e.what());
  }
}

void Daemon::logEndpoints(const config::Config& config) const {
  const auto& curve = config.daemon.publish_curve;
  for (const std::string& endpoint : engine_->publishEndpoints()) {
    logInfo("publishing results on " + endpoint +
            (curve ? " (CURVE, server public key " + curve->public_key + ", " +
                         std::to_string(curve->clients.size()) + " client keys)"
                   : ""));
  }
  for (const config::OutputSpec& output : config.outputs) {
    std::string which = "every pipeline";
    if (!output.pipelines.empty()) {
      which.clear();
      for (const std::string& p : output.pipelines) which += (which.empty() ? "" : ", ") + p;
    }
    const std::string to = output.kind == config::OutputKind::kKafka
                               ? "kafka topic " + output.topic + " at " + output.brokers
                               : output.path;
    logInfo("output " + output.name + ": results of " + which + " to " + to);
  }
  for (std::size_t s = 0; s < config.sources.size(); ++s) {
    const connectors::Source& source = engine_->source(s);
    if (const std::string where = source.where(); !where.empty()) {
      logInfo("source " + config.sources[s].name + " " + where);
    }
    for (const std::string& warning : source.warnings()) logWarn(warning);
  }
}

int Daemon::run(SignalSource& signals) {
  engine_->start();
  const config::Config& config = engine_->config();
  logInfo(std::string("rivuletd ") + kVersion +
          " running: " + std::to_string(config.sources.size()) + " sources, " +
          std::to_string(config.pipelines.size()) + " pipelines, " +
          std::to_string(engine_->stageCount()) + " stages");
  service_->ready(pipeline::steadyNanos());
  Reloader reloader(config_path_, *engine_, *service_, checkpointer_.get(), reload_stats_);
  EngineRefusalLog refusals(*engine_);

  while (!engine_->finished()) {
    const int sig = signals.wait(kTickNs);
    if (!stopping_) {
      reloader.tick(pipeline::steadyNanos());
      if (checkpointer_) checkpointer_->tick(pipeline::steadyNanos());
      engine_->tables().tick();
    }
    if (sig == SIGINT || sig == SIGTERM) {
      if (!stop(sig == SIGINT ? "SIGINT" : "SIGTERM")) {
        abandoned_ = true;
        return kExitOk;
      }
    } else if (sig == SIGHUP) {
      if (service_->isStopping()) {
        logWarn("SIGHUP while stopping: ignored");
      } else {
        engine_->tables().reloadAll();
        reloader.request();
      }
    }
    if (engine_->sourcesEnded()) service_->stopping("input ended: publishing the last windows");
    service_->tick(pipeline::steadyNanos());
    refusals.tick(pipeline::steadyNanos());
  }
  service_->stopping("input ended: publishing the last windows");  // if it ended between turns
  engine_->join();
  refusals.tick(pipeline::steadyNanos());  // what the last turns left
  // Every thread has returned, so no event is in flight: these sums are exact, as a last scrape's
  // are not. A test (or an operator) checks that the counts add up from them; a count that is
  // missing at info is 0.
  for (const FinalCount& count : finalCounts(*metrics_)) {
    log(count.value != 0 ? LogLevel::kInfo : LogLevel::kDebug, "final count: " + count.text);
  }
  service_->finished();
  // The routes read the engine and the service: stop serving them before those go. The stop
  // also removes a unix socket file.
  http_->stop();
  engine_.reset();  // closes the result socket, waiting (linger) until queued results are sent
  logInfo("all results published; exiting");
  return kExitOk;
}

bool Daemon::stop(const char* signal_name) {
  if (stopping_) {
    logWarn("second stop signal: exiting without draining");
    return false;
  }
  stopping_ = true;
  if (checkpointer_) {
    logInfo(std::string("received ") + signal_name + ": taking a last checkpoint, stopping");
    service_->stopping("stopping: taking a last checkpoint");
    checkpointer_->checkpointNow(kStopCheckpointTimeoutNs,
                                 [&] { service_->tick(pipeline::steadyNanos()); });
  } else {
    logInfo(std::string("received ") + signal_name +
            ": stopping sources, draining, publishing open windows as partial");
    service_->stopping("stopping: draining, publishing open windows as partial");
  }
  engine_->requestStop();
  return true;
}

}  // namespace rivulet::daemon
