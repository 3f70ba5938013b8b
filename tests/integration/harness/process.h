// Child processes for the tests: a generic posix_spawn wrapper, and rivuletd itself with its log
// read for the ports it bound. Children are killed on destruction, so a failing test leaves none.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/metrics.h"

namespace rivulet::testutil {

// rivuletd of this build, or the one RIVULETD in the environment names (an installed binary, a
// sanitizer build).
extern const std::string kDaemonPath;
// The repository (RIVULET_SOURCE_DIR).
extern const std::string kSourceDir;

// Exit code as a shell reports it: the status for a normal exit, 128 + signal for a kill.
int exitCodeOf(int status);

// A child started with posix_spawn, stdin from /dev/null and stdout/stderr into files, with the
// test's environment plus `environment` ("NAME=value", replacing a variable of that name). Killed
// (SIGKILL) and reaped on destruction if it is still running, so a failing test leaves nothing.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
               const std::string& stderr_path, const std::vector<std::string>& environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool signal(int sig) const;

  // The exit code if the child has exited (reaps it), without waiting.
  std::optional<int> poll();
  bool running() { return !poll().has_value(); }

  // Waits up to `timeout` for the child to exit; its exit code, or nullopt if still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  std::optional<int> exit_code;  // nullopt: still running at the deadline (then killed)
  std::string out;
  std::string err;
};

// Runs a command to completion (killed after `timeout`), capturing stdout and stderr.
CommandResult runCommand(const TempDir& dir, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                         const std::vector<std::string>& environment = {});

// rivuletd --config <dir>/rivulet.yaml, stderr into <dir>/rivuletd.log. waitReady() reads the log
// for the ports it bound. `environment` is added to the test's (ChildProcess).
class Daemon {
 public:
  Daemon(const TempDir& dir, std::string_view config_yaml, std::vector<std::string> extra_args = {},
         const std::vector<std::string>& environment = {});
  // Prints the daemon's log if the test has failed.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Waits for the "running" line (logged once every socket is bound and every thread started)
  // and parses the metrics port, the publish endpoints and the tcp source ports.
  ::testing::AssertionResult waitReady(
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  int metricsPort() const { return metrics_port_; }
  // With `metrics: unix:/path`: the path the log says metrics are served on (metricsPort() is 0).
  const std::string& metricsSocket() const { return metrics_socket_; }
  const std::vector<std::string>& publishEndpoints() const { return publish_; }
  // The bound endpoint whose configured form starts with `scheme` ("tcp://", "ipc://").
  std::string publishEndpoint(std::string_view scheme) const;
  int sourcePort(const std::string& name) const;
  std::string log() const { return readFile(log_path_); }
  const std::string& configPath() const { return config_path_; }
  ChildProcess& process() { return *process_; }

  std::optional<Metrics> scrape(std::string* error) const;

  // Scrapes until `condition(metrics)` holds; the last scrape (whether or not it held).
  std::optional<Metrics> scrapeUntil(const std::function<bool(const Metrics&)>& condition,
                                     std::chrono::milliseconds timeout, std::string* error) const;
  // Scrapes until the sample `name` with exactly `labels` (0 while absent) is at least
  // `at_least`; with `last`, the last scrape.
  ::testing::AssertionResult waitMetric(
      const std::string& name, const Labels& labels, double at_least,
      std::chrono::milliseconds timeout = std::chrono::seconds(30), Metrics* last = nullptr) const;

 private:
  std::string config_path_;
  std::string log_path_;
  std::optional<ChildProcess> process_;
  int metrics_port_ = 0;
  std::string metrics_socket_;
  std::vector<std::string> publish_;
  std::map<std::string, int> source_ports_;
};

// A client connection to a tcp source.
class TcpClient {
 public:
  explicit TcpClient(int port);
  ~TcpClient() { close(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  bool send(std::string_view data);
  void close();
  // Closes with a reset (RST) rather than an orderly end, as when a client's host crashes.
  void reset();

 private:
  int fd_;
};

}  // namespace rivulet::testutil
