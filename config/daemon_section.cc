// The `daemon:` section: control-plane settings, all optional.
#include <sys/un.h>

#include <algorithm>
#include <string>

#include "config/endpoint.h"
#include "config/sections.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

constexpr std::string_view kDaemonKeys[] = {
    "metrics", "publish", "publish_hwm", "publish_curve", "output",
    "stages",  "cpus",    "log_level",   "checkpoint",    "idle_spin"};
// Longer than this, spinning buys nothing that parking does not: a wake-up costs microseconds.
constexpr Nanos kMaxIdleSpin = 10'000'000;
constexpr std::string_view kCpuKeys[] = {"sources", "stages", "publisher"};
constexpr std::string_view kCheckpointKeys[] = {"dir", "interval"};
constexpr Nanos kMinCheckpointInterval = 100'000'000;
constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error"};
constexpr std::string_view kZmqSchemes[] = {"tcp://", "ipc://", "inproc://"};
constexpr std::int64_t kMaxStages = 256;
// ZeroMQ's 0 would be no bound at all: a stuck subscriber would then take all memory.
constexpr std::int64_t kMaxPublishHwm = 100'000'000;
// CPU_SETSIZE - 1: a larger cpu number cannot be put in a cpu_set_t for pthread_setaffinity_np.
constexpr std::int64_t kMaxCpu = 1023;
constexpr std::string_view kUnixPrefix = "unix:";
// sun_path holds the path and its terminating NUL.
constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

// `metrics: unix:/path` or `metrics: host:port`. A socket path must be absolute: a relative one
// would depend on the directory the daemon happens to start in (/ under systemd).
void readMetrics(YamlReader& reader, const Value& value, DaemonConfig* daemon) {
  const auto text = reader.scalar(value, "host:port or unix:/path");
  if (!text) return;
  if (!text->starts_with(kUnixPrefix)) {
    if (const auto endpoint = reader.endpoint(value)) daemon->metrics = *endpoint;
    return;
  }
  const std::string path = text->substr(kUnixPrefix.size());
  const std::string example = " (e.g. unix:/run/rivulet/metrics.sock)";
  if (path.empty()) {
    reader.error(value, quote(*text) + " has no socket path" + example);
  } else if (path.front() != '/') {
    reader.error(value, quote(*text) + ": the socket path must be absolute" + example);
  } else if (path.back() == '/') {
    reader.error(value, quote(*text) + ": the socket path names a directory" + example);
  } else if (path.size() > kMaxSocketPath) {
    reader.error(value, quote(*text) + ": the socket path is " + std::to_string(path.size()) +
                            " bytes long, a unix socket's is at most " +
                            std::to_string(kMaxSocketPath));
  } else {
    daemon->metrics_socket = path;
  }
}

void readPublish(YamlReader& reader, const Value& value, DaemonConfig* daemon) {
  const auto items = reader.list(value, /*scalar_is_list=*/true);
  if (!items) return;
  if (items->empty()) {
    reader.error(value, "at least one endpoint is required");
    return;
  }
  daemon->publish.clear();
  for (const Value& item : *items) {
    const auto endpoint = reader.scalar(item, "a ZeroMQ endpoint");
    if (!endpoint) continue;
    if (!hasScheme(*endpoint, kZmqSchemes)) {
      reader.error(item, quote(*endpoint) +
                             " is not a ZeroMQ endpoint (use tcp://host:port, ipc://path or "
                             "inproc://name)");
    } else if (std::find(daemon->publish.begin(), daemon->publish.end(), *endpoint) !=
               daemon->publish.end()) {
      reader.error(item, quote(*endpoint) + " is listed twice");
    } else {
      daemon->publish.push_back(*endpoint);
    }
  }
}

std::vector<int> readCpuList(YamlReader& reader, const Value& value) {
  std::vector<int> cpus;
  const auto items = reader.list(value, /*scalar_is_list=*/false);
  if (!items) return cpus;
  for (const Value& item : *items) {
    if (const auto cpu = reader.integer(item, 0, kMaxCpu)) cpus.push_back(static_cast<int>(*cpu));
  }
  return cpus;
}

CpuPlan readCpus(YamlReader& reader, const Value& value) {
  CpuPlan plan;
  auto map = reader.map(value);
  if (!map) return plan;
  if (const Entry* e = map->find("sources")) plan.sources = readCpuList(reader, e->value);
  if (const Entry* e = map->find("stages")) plan.stages = readCpuList(reader, e->value);
  if (const Entry* e = map->find("publisher")) {
    if (const auto cpu = reader.integer(e->value, 0, kMaxCpu)) {
      plan.publisher = static_cast<int>(*cpu);
    }
  }
  map->reportUnknown(kCpuKeys);
  return plan;
}

CheckpointSpec readCheckpoint(YamlReader& reader, const Value& value) {
  CheckpointSpec spec;
  auto map = reader.map(value);
  if (!map) return spec;
  if (const Entry* e = map->require("dir")) {
    if (const auto dir = reader.nonEmptyString(e->value)) spec.dir = *dir;
  }
  if (const Entry* e = map->find("interval")) {
    if (const auto interval = reader.duration(e->value)) {
      if (*interval < kMinCheckpointInterval) {
        reader.error(e->value, "must be at least 100ms");
      } else {
        spec.interval = *interval;
      }
    }
  }
  map->reportUnknown(kCheckpointKeys);
  return spec;
}

}  // namespace

DaemonConfig readDaemon(YamlReader& reader, const Value& value) {
  DaemonConfig daemon;
  auto map = reader.map(value);
  if (!map) return daemon;
  if (const Entry* e = map->find("metrics")) readMetrics(reader, e->value, &daemon);
  if (const Entry* e = map->find("publish")) readPublish(reader, e->value, &daemon);
  if (const Entry* e = map->find("publish_hwm")) {
    if (const auto hwm = reader.integer(e->value, 1, kMaxPublishHwm)) {
      daemon.publish_hwm = static_cast<int>(*hwm);
    }
  }
  if (const Entry* e = map->find("publish_curve")) {
    daemon.publish_curve = readCurve(reader, e->value, CurveRole::kServer);
  }
  if (const Entry* e = map->find("output")) {
    if (const auto output = reader.nonEmptyString(e->value)) daemon.output = *output;
  }
  if (const Entry* e = map->find("stages")) {
    if (const auto stages = reader.integer(e->value, 1, kMaxStages)) {
      daemon.stages = static_cast<int>(*stages);
    }
  }
  if (const Entry* e = map->find("cpus")) daemon.cpus = readCpus(reader, e->value);
  if (const Entry* e = map->find("log_level")) {
    if (const auto level = reader.choice(e->value, kLogLevels, "a log level")) {
      daemon.log_level = *level;
    }
  }
  if (const Entry* e = map->find("checkpoint")) {
    daemon.checkpoint = readCheckpoint(reader, e->value);
  }
  if (const Entry* e = map->find("idle_spin")) {
    if (const auto spin = reader.duration(e->value)) {
      if (*spin > kMaxIdleSpin) {
        reader.error(e->value, "must be at most 10ms");
      } else {
        daemon.idle_spin = *spin;
      }
    }
  }
  map->reportUnknown(kDaemonKeys);
  return daemon;
}

}  // namespace rivulet::config
