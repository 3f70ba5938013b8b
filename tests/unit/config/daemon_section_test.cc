// A bad `daemon:` section: the exact "file:line:column: path: message" of every error, in file
// order. The YAML literals start at line 1, column 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

TEST(DaemonErrors, EveryKey) {
  EXPECT_THAT(
      errorsOf(R"yaml(daemon:
  metrics: 127.0.0.1:9464
  publish: [tcp://127.0.0.1:5556, "udp://x:1", tcp://127.0.0.1:5556, "tcp://"]
  output: ""
  stages: 257
  cpus: { sources: [0, -1], stages: 1, publisher: 1024, gpu: 0 }
  log_level: warning
  log_levle: info
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml"),
      ElementsAre(
          "t.yaml:3:35: daemon.publish[1]: \"udp://x:1\" is not a ZeroMQ endpoint (use "
          "tcp://host:port, ipc://path or inproc://name)",
          "t.yaml:3:48: daemon.publish[2]: \"tcp://127.0.0.1:5556\" is listed twice",
          "t.yaml:3:70: daemon.publish[3]: \"tcp://\" is not a ZeroMQ endpoint (use "
          "tcp://host:port, ipc://path or inproc://name)",
          "t.yaml:4:11: daemon.output: expected a non-empty string, got \"\"",
          "t.yaml:5:11: daemon.stages: \"257\" is out of range (expected an integer in 1..256)",
          "t.yaml:6:24: daemon.cpus.sources[1]: \"-1\" is out of range (expected an integer in "
          "0..1023)",
          "t.yaml:6:37: daemon.cpus.stages: expected a list, got \"1\"",
          "t.yaml:6:51: daemon.cpus.publisher: \"1024\" is out of range (expected an integer in "
          "0..1023)",
          "t.yaml:6:57: daemon.cpus.gpu: unknown key \"gpu\" (known keys: sources, stages, "
          "publisher)",
          "t.yaml:7:14: daemon.log_level: \"warning\" is not a log level (expected one of: debug, "
          "info, warn, error)",
          "t.yaml:8:3: daemon.log_levle: unknown key \"log_levle\" (did you mean "
          "\"log_level\"?)"));
  EXPECT_THAT(errorsOf(R"yaml(daemon: { publish: [] }
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml"),
              ElementsAre("t.yaml:1:20: daemon.publish: at least one endpoint is required"));
}

TEST(DaemonErrors, Checkpoint) {
  EXPECT_THAT(errorsOf(R"yaml(daemon:
  checkpoint: { interval: 10ms, every: 1s }
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml"),
              ElementsAre("t.yaml:2:15: daemon.checkpoint: missing required key \"dir\"",
                          "t.yaml:2:27: daemon.checkpoint.interval: must be at least 100ms",
                          "t.yaml:2:33: daemon.checkpoint.every: unknown key \"every\" (known "
                          "keys: dir, interval)"));
  const LoadResult ok = loadString(R"yaml(daemon:
  checkpoint: { dir: /var/lib/rivulet }
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml",
                                   "t.yaml");
  ASSERT_TRUE(ok.config.has_value());
  ASSERT_TRUE(ok.config->daemon.checkpoint.has_value());
  EXPECT_EQ(ok.config->daemon.checkpoint->dir, "/var/lib/rivulet");
  EXPECT_EQ(ok.config->daemon.checkpoint->interval, 10'000'000'000);
}

// idle_spin: a duration up to 10ms; 0 (parking at once) unless given.
TEST(DaemonErrors, IdleSpin) {
  const std::string rest = R"yaml(
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml";
  const auto load = [&](const std::string& spin) {
    return loadString("daemon:\n  idle_spin: " + spin + rest, "t.yaml");
  };
  EXPECT_THAT(errorsOf("daemon:\n  idle_spin: 11ms" + rest),
              ElementsAre("t.yaml:2:14: daemon.idle_spin: must be at most 10ms"));
  EXPECT_EQ(errorsOf("daemon:\n  idle_spin: fast" + rest).size(), 1u);
  const LoadResult ok = load("250us");
  ASSERT_TRUE(ok.config.has_value());
  EXPECT_EQ(ok.config->daemon.idle_spin, 250'000);
  const LoadResult most = load("10ms");
  ASSERT_TRUE(most.config.has_value());
  EXPECT_EQ(most.config->daemon.idle_spin, 10'000'000);
  EXPECT_EQ(load("0s").config->daemon.idle_spin, 0);
}

// `metrics: unix:/path`: the path of a unix socket, absolute and short enough for sun_path.
TEST(DaemonErrors, MetricsSocket) {
  const auto errorsWith = [](const std::string& metrics) {
    return errorsOf("daemon:\n  metrics: " + metrics + R"yaml(
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml");
  };
  EXPECT_THAT(errorsWith("\"unix:\""),
              ElementsAre("t.yaml:2:12: daemon.metrics: \"unix:\" has no socket path (e.g. "
                          "unix:/run/rivulet/metrics.sock)"));
  EXPECT_THAT(errorsWith("unix:run/m.sock"),
              ElementsAre("t.yaml:2:12: daemon.metrics: \"unix:run/m.sock\": the socket path must "
                          "be absolute (e.g. unix:/run/rivulet/metrics.sock)"));
  EXPECT_THAT(errorsWith("unix:/run/rivulet/"),
              ElementsAre("t.yaml:2:12: daemon.metrics: \"unix:/run/rivulet/\": the socket path "
                          "names a directory (e.g. unix:/run/rivulet/metrics.sock)"));
  // sun_path is 108 bytes with the terminating NUL: 107 is the longest path.
  const std::string too_long = "/" + std::string(107, 'm');
  EXPECT_THAT(errorsWith("unix:" + too_long),
              ElementsAre("t.yaml:2:12: daemon.metrics: \"unix:/" + std::string(54, 'm') +
                          "...\": the socket path is 108 bytes long, a unix socket's is at most "
                          "107"));
  EXPECT_THAT(errorsWith("[unix, /m.sock]"),
              ElementsAre("t.yaml:2:12: daemon.metrics: expected host:port or unix:/path, got a "
                          "list"));

  const std::string longest = "/" + std::string(106, 'm');
  const LoadResult ok = loadString("daemon:\n  metrics: unix:" + longest + R"yaml(
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml",
                                   "t.yaml");
  ASSERT_TRUE(ok.config.has_value());
  EXPECT_EQ(ok.config->daemon.metrics_socket, longest);
  const LoadResult tcp = loadString(R"yaml(daemon: { metrics: "127.0.0.1:9100" }
sources: { s: { kind: generator } }
pipelines: { p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() } } }
)yaml",
                                    "t.yaml");
  ASSERT_TRUE(tcp.config.has_value());
  EXPECT_EQ(tcp.config->daemon.metrics_socket, "");
  EXPECT_EQ(tcp.config->daemon.metrics, (Endpoint{"127.0.0.1", 9100}));
}

}  // namespace
}  // namespace rivulet::config
