// The YAML the integration tests start rivuletd with: the daemon: section most of them share, and
// the generator source and per-key pipeline many of them read.
#pragma once

#include <string>

#include "tests/support/files.h"

namespace rivulet::testutil {

// The daemon: section: metrics on an ephemeral loopback port, results on ipc://<dir>/r.ipc, two
// stage threads. `more` holds further lines of the section as they are ("  log_level: debug\n").
struct DaemonSection {
  std::string metrics = "127.0.0.1:0";
  std::string publish{};  // empty: ipc://<dir>/r.ipc
  std::string output{};   // empty: no output file
  int stages = 2;         // 0: the daemon's default
  std::string more{};     // further lines of the section, as they are
};
std::string daemonYaml(const TempDir& dir, const DaemonSection& section = {});
// With the endpoint in section.publish.
std::string daemonYaml(const DaemonSection& section);

// A generator source `name` of `keys` keys at `events_per_second` of event time, throttled to
// `throttle` events per wall-clock second (0: as fast as it can). `more` holds further lines of
// the source as they are ("    count: 100\n").
std::string generatorYaml(const std::string& name, int keys, int events_per_second, int throttle,
                          const std::string& more = "");

// A file source `name` reading `path` (JSON lines), its event time the field ts in milliseconds.
std::string fileSourceYaml(const std::string& name, const std::string& path);

// Pipeline `name` over `source` per key in 1 s tumbling windows; `aggregates` holds its lines
// ("      n: count()\n").
std::string perKeyPipelineYaml(const std::string& name, const std::string& source,
                               const std::string& aggregates = "      n: count()\n");

}  // namespace rivulet::testutil
