// rivuletd: wires config, engine, metrics, signals and the service manager together.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "config/curve_key.h"
#include "config/endpoint.h"
#include "config/loader.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/checkpoints/checkpointer.h"
#include "daemon/cli.h"
#include "daemon/engine.h"
#include "daemon/http/http_server.h"
#include "daemon/http/metrics.h"
#include "daemon/http/operator_routes.h"
#include "daemon/log.h"
#include "daemon/refusal_log.h"
#include "daemon/reloader.h"
#include "daemon/service/notify.h"
#include "daemon/service/service.h"
#include "daemon/version.h"
#include "pipeline/runtime/clock.h"

namespace rd = rivulet::daemon;

namespace {
// How long a stop waits for its last checkpoint (systemd's TimeoutStopSec is 30 s).
constexpr std::int64_t kStopCheckpointTimeoutNs = 20'000'000'000;
}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const auto options = rd::parseOptions({argv + 1, argv + argc}, error);
  if (!options) {
    std::fprintf(stderr, "rivuletd: %s\n\n%s", error.c_str(), rd::kUsage);
    return rd::kExitUsage;
  }
  if (options->help) {
    std::fputs(rd::kUsage, stdout);
    return rd::kExitOk;
  }
  if (options->version) {
    std::printf("rivuletd %s\n", rivulet::kVersion);
    return rd::kExitOk;
  }
  if (options->curve_keypair) {
    if (!rivulet::config::writeCurveKeyPair(*options->curve_keypair, error)) {
      std::fprintf(stderr, "rivuletd: %s\n", error.c_str());
      return rd::kExitStartFailed;
    }
    std::printf("wrote %s.secret and %s.public\n", options->curve_keypair->c_str(),
                options->curve_keypair->c_str());
    return rd::kExitOk;
  }

  const rivulet::config::LoadResult loaded = rivulet::config::loadFile(options->config);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", options->config.c_str(), loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s");
    return rd::kExitBadConfig;
  }
  const rivulet::config::Config& config = *loaded.config;
  if (options->check) {
    std::printf("%s\n", rivulet::config::summary(config).c_str());
    return rd::kExitOk;
  }

  rd::LogLevel level = rd::LogLevel::kInfo;
  const std::string& level_text = options->log_level.value_or(config.daemon.log_level);
  if (!rd::parseLogLevel(level_text, level)) {
    std::fprintf(stderr, "rivuletd: unknown log level \"%s\"\n", level_text.c_str());
    return rd::kExitUsage;
  }
  rd::setLogLevel(level);
  rd::ServiceNotifier notifier;  // reads the environment: before any thread exists

  // Signals are taken synchronously by this thread: block them before any thread exists, so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The checkpoint to resume from, if any: a bad one stops the start, unless told to discard it
  // (silently starting afresh would publish windows again and lose the source positions).
  std::optional<rd::CheckpointData> restored;
  if (config.daemon.checkpoint) {
    const std::string& dir = config.daemon.checkpoint->dir;
    rd::CheckpointRead read = rd::readCheckpoint(dir, rd::checkpointFingerprint(config));
    if (read.status == rd::CheckpointRead::Status::kOk) {
      restored = std::move(read.data);
    } else if (read.status != rd::CheckpointRead::Status::kNone) {
      const std::string what = rd::checkpointPath(dir) + ": " + read.message;
      if (!options->discard_checkpoint) {
        rd::logError("cannot start: checkpoint " + what +
                     "; start with --discard-checkpoint to move it aside and begin afresh");
        return rd::kExitStartFailed;
      }
      std::string error;
      if (!rd::discardCheckpoint(dir, error)) {
        rd::logError("cannot start: " + error);
        return rd::kExitStartFailed;
      }
      rd::logWarn("checkpoint " + what + ": moved aside (--discard-checkpoint), starting afresh");
    }
  }

  std::unique_ptr<rd::Engine> engine;
  std::unique_ptr<rd::Checkpointer> checkpointer;
  std::unique_ptr<rd::Service> service;
  std::unique_ptr<rd::HttpServer> http;  // /metrics, /healthz, /ready
  std::shared_ptr<rd::EngineMetrics> metrics;
  rd::ReloadStats reload_stats;
  // As Prometheus' own metric of that name: the initial load counts as the first success.
  reload_stats.last_applied_at.store(rivulet::pipeline::wallNanos(), std::memory_order_relaxed);
  try {
    engine = std::make_unique<rd::Engine>(config, restored ? &*restored : nullptr);
    if (config.daemon.checkpoint) {
      std::vector<std::string> names;
      for (const auto& source : config.sources) names.push_back(source.name);
      checkpointer =
          std::make_unique<rd::Checkpointer>(*config.daemon.checkpoint, engine->checkpoints(),
                                             engine->fingerprint(), std::move(names));
    }
    if (restored) {
      rd::logInfo("resuming from checkpoint " + std::to_string(restored->id) + " in " +
                  config.daemon.checkpoint->dir);
    }
    metrics = std::make_shared<rd::EngineMetrics>(*engine);
    if (checkpointer) metrics->observeCheckpoints(checkpointer->stats());
    metrics->observeReloads(reload_stats);
    service = std::make_unique<rd::Service>(*engine, notifier);
    rd::HttpRoutes routes = rd::operatorRoutes(metrics, *engine, *service);
    try {
      if (const std::string& path = config.daemon.metrics_socket; !path.empty()) {
        // No TCP port at all: a socket is chosen where no port should be open.
        http = std::make_unique<rd::HttpServer>(path, std::move(routes));
        rd::logInfo("metrics on unix:" + path + " (/metrics, /healthz, /ready)");
      } else {
        http = std::make_unique<rd::HttpServer>(config.daemon.metrics, std::move(routes));
        rd::logInfo("metrics on http://" +
                    rivulet::config::formatEndpoint({config.daemon.metrics.host, http->port()}) +
                    "/metrics (also /healthz, /ready)");
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("metrics: ") + e.what());
    }
  } catch (const std::exception& e) {
    rd::logError(std::string("cannot start: ") + e.what());
    return rd::kExitStartFailed;
  }
  const auto& curve = config.daemon.publish_curve;
  for (const std::string& endpoint : engine->publishEndpoints()) {
    rd::logInfo("publishing results on " + endpoint +
                (curve ? " (CURVE, server public key " + curve->public_key + ", " +
                             std::to_string(curve->clients.size()) + " client keys)"
                       : ""));
  }
  for (std::size_t s = 0; s < config.sources.size(); ++s) {
    const rivulet::connectors::Source& source = engine->source(s);
    if (const std::string where = source.where(); !where.empty()) {
      rd::logInfo("source " + config.sources[s].name + " " + where);
    }
    for (const std::string& warning : source.warnings()) rd::logWarn(warning);
  }
  engine->start();
  rd::logInfo(std::string("rivuletd ") + rivulet::kVersion +
              " running: " + std::to_string(config.sources.size()) + " sources, " +
              std::to_string(config.pipelines.size()) + " pipelines, " +
              std::to_string(engine->stageCount()) + " stages");
  service->ready(rivulet::pipeline::steadyNanos());
  rd::Reloader reloader(options->config, *engine, *service, checkpointer.get(), reload_stats);
  rd::EngineRefusalLog refusals(*engine);

  // The loop turns at least every 50 ms: signals, the watchdog's keep-alive and the status line.
  bool stopping = false;
  const timespec tick{0, 50'000'000};
  while (!engine->finished()) {
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (!stopping) {
      reloader.tick(rivulet::pipeline::steadyNanos());
      if (checkpointer) checkpointer->tick(rivulet::pipeline::steadyNanos());
    }
    if (sig == SIGINT || sig == SIGTERM) {
      if (stopping) {
        rd::logWarn("second stop signal: exiting without draining");
        std::_Exit(rd::kExitOk);
      }
      stopping = true;
      const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      if (checkpointer) {
        rd::logInfo(std::string("received ") + name + ": taking a last checkpoint, stopping");
        service->stopping("stopping: taking a last checkpoint");
        checkpointer->checkpointNow(kStopCheckpointTimeoutNs,
                                    [&] { service->tick(rivulet::pipeline::steadyNanos()); });
      } else {
        rd::logInfo(std::string("received ") + name +
                    ": stopping sources, draining, publishing open windows as partial");
        service->stopping("stopping: draining, publishing open windows as partial");
      }
      engine->requestStop();
    } else if (sig == SIGHUP) {
      if (service->isStopping()) {
        rd::logWarn("SIGHUP while stopping: ignored");
      } else {
        reloader.request();
      }
    }
    if (engine->sourcesEnded()) service->stopping("input ended: publishing the last windows");
    service->tick(rivulet::pipeline::steadyNanos());
    refusals.tick(rivulet::pipeline::steadyNanos());
  }
  service->stopping("input ended: publishing the last windows");  // if it ended between turns
  engine->join();
  refusals.tick(rivulet::pipeline::steadyNanos());  // what the last turns left
  // Every thread has returned, so no event is in flight: these sums are exact, as a last scrape's
  // are not. A test (or an operator) checks that the counts add up from them; a count that is
  // missing at info is 0.
  for (const rd::FinalCount& count : rd::finalCounts(*metrics)) {
    rd::log(count.value != 0 ? rd::LogLevel::kInfo : rd::LogLevel::kDebug,
            "final count: " + count.text);
  }
  service->finished();
  // The routes read the engine and the service: stop serving them before those go. The stop
  // also removes a unix socket file.
  http->stop();
  engine.reset();  // closes the result socket, waiting (linger) until queued results are sent
  rd::logInfo("all results published; exiting");
  return rd::kExitOk;
}
