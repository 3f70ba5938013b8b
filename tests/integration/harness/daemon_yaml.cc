// The YAML the integration tests start rivuletd with (daemon_yaml.h).
#include "tests/integration/harness/daemon_yaml.h"

namespace rivulet::testutil {

std::string daemonYaml(const TempDir& dir, const DaemonSection& section) {
  DaemonSection with_publish = section;
  if (with_publish.publish.empty()) with_publish.publish = "ipc://" + dir.file("r.ipc");
  return daemonYaml(with_publish);
}

std::string daemonYaml(const DaemonSection& section) {
  std::string yaml =
      "daemon:\n  metrics: " + section.metrics + "\n  publish: " + section.publish + "\n";
  if (!section.output.empty()) yaml += "  output: " + section.output + "\n";
  if (section.stages > 0) yaml += "  stages: " + std::to_string(section.stages) + "\n";
  return yaml + section.more;
}

std::string generatorYaml(const std::string& name, int keys, int events_per_second, int throttle,
                          const std::string& more) {
  return "  " + name + ":\n    kind: generator\n    keys: " + std::to_string(keys) +
         "\n    events_per_second: " + std::to_string(events_per_second) +
         "\n    throttle: " + std::to_string(throttle) + "\n" + more;
}

std::string fileSourceYaml(const std::string& name, const std::string& path) {
  return "  " + name + ":\n    kind: file\n    path: " + path +
         "\n    time: {field: ts, unit: ms}\n";
}

std::string perKeyPipelineYaml(const std::string& name, const std::string& source,
                               const std::string& aggregates) {
  return "  " + name + ":\n    from: " + source +
         "\n    group_by: [key]\n    window: {tumbling: 1s}\n    aggregates:\n" + aggregates;
}

}  // namespace rivulet::testutil
