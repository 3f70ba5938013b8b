// Child processes and rivuletd for the integration tests (process.h).
#include "tests/integration/harness/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "tests/support/http.h"
#include "tests/support/sockets.h"
#include "tests/support/wait.h"

extern char** environ;

namespace rivulet::testutil {

const std::string kDaemonPath = std::getenv("RIVULETD") != nullptr ? std::getenv("RIVULETD")
                                                                   : RIVULET_BINARY_DIR
                                    "/daemon/rivuletd";
const std::string kSourceDir = RIVULET_SOURCE_DIR;

namespace {

// The test's environment with `overrides` ("NAME=value") replacing or adding variables.
std::vector<std::string> environmentWith(const std::vector<std::string>& overrides) {
  std::vector<std::string> env(overrides);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('=') + 1);
    const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
      return std::string_view(o).substr(0, o.find('=') + 1) == name;
    });
    if (!overridden) env.emplace_back(entry);
  }
  return env;
}

}  // namespace

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
                           const std::string& stderr_path,
                           const std::vector<std::string>& environment) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // The child starts with the default disposition and an empty mask whatever the test runner
  // has set (gtest threads, an ignored SIGPIPE).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> env = environmentWith(environment);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int rc =
      posix_spawn(&pid_, argv.front().c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("posix_spawn " + argv.front() + ": " + std::strerror(rc));
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ChildProcess::signal(int sig) const { return !status_ && ::kill(pid_, sig) == 0; }

std::optional<int> ChildProcess::poll() {
  if (!status_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = exitCodeOf(status);
  }
  return status_;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  waitUntil([&] { return poll().has_value(); }, timeout, 2ms);
  return status_;
}

CommandResult runCommand(const TempDir& dir, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout,
                         const std::vector<std::string>& environment) {
  static std::atomic<int> runs{0};
  const std::string base = dir.file("cmd-" + std::to_string(runs++));
  CommandResult result;
  {
    ChildProcess child(argv, base + ".out", base + ".err", environment);
    result.exit_code = child.wait(timeout);
  }
  result.out = readFile(base + ".out");
  result.err = readFile(base + ".err");
  return result;
}

Daemon::Daemon(const TempDir& dir, std::string_view config_yaml,
               std::vector<std::string> extra_args, const std::vector<std::string>& environment)
    : config_path_(dir.file("rivulet.yaml")), log_path_(dir.file("rivuletd.log")) {
  writeFile(config_path_, config_yaml);
  std::vector<std::string> argv{kDaemonPath, "--config", config_path_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_.emplace(argv, dir.file("rivuletd.out"), log_path_, environment);
}

Daemon::~Daemon() {
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "[harness] rivuletd log (%s):\n%s\n", log_path_.c_str(), log().c_str());
  }
}

::testing::AssertionResult Daemon::waitReady(std::chrono::milliseconds timeout) {
  const bool ready = waitUntil(
      [&] { return log().find(" running: ") != std::string::npos || !process_->running(); },
      timeout);
  if (!process_->running()) {
    return ::testing::AssertionFailure()
           << "rivuletd exited with " << *process_->poll() << " before it was ready:\n"
           << log();
  }
  if (!ready) return ::testing::AssertionFailure() << "rivuletd not ready in time:\n" << log();
  for (const std::string& line : splitLines(log())) {
    if (const std::size_t at = line.find("metrics on http://"); at != std::string::npos) {
      const std::size_t slash = line.find("/metrics", at + 18);
      const std::string address = line.substr(at + 18, slash - (at + 18));
      metrics_port_ = std::atoi(address.c_str() + address.rfind(':') + 1);
    } else if (const std::size_t unix_at = line.find("metrics on unix:");
               unix_at != std::string::npos) {
      metrics_socket_ = line.substr(unix_at + 16, line.find(' ', unix_at + 16) - (unix_at + 16));
    } else if (const std::size_t publish_at = line.find("publishing results on ");
               publish_at != std::string::npos) {
      publish_.push_back(
          line.substr(publish_at + 22, line.find(' ', publish_at + 22) - (publish_at + 22)));
    } else if (const std::size_t source_at = line.find("source "); source_at != std::string::npos) {
      const std::size_t listening = line.find(" listening on ", source_at);
      if (listening == std::string::npos) continue;
      const std::string name = line.substr(source_at + 7, listening - (source_at + 7));
      source_ports_[name] = std::atoi(line.c_str() + line.rfind(':') + 1);
    }
  }
  if (metrics_port_ <= 0 && metrics_socket_.empty()) {
    return ::testing::AssertionFailure() << "no metrics port or socket:\n" << log();
  }
  return ::testing::AssertionSuccess();
}

std::string Daemon::publishEndpoint(std::string_view scheme) const {
  for (const std::string& e : publish_) {
    if (e.rfind(scheme, 0) == 0) return e;
  }
  return {};
}

int Daemon::sourcePort(const std::string& name) const {
  const auto it = source_ports_.find(name);
  return it == source_ports_.end() ? 0 : it->second;
}

std::optional<Metrics> Daemon::scrape(std::string* error) const {
  const auto response = metrics_socket_.empty() ? httpGet(metrics_port_, "/metrics", error)
                                                : httpGetUnix(metrics_socket_, "/metrics", error);
  if (!response) return std::nullopt;
  if (response->status != 200) {
    *error = "/metrics: HTTP " + std::to_string(response->status);
    return std::nullopt;
  }
  return Metrics::parse(response->body, error);
}

std::optional<Metrics> Daemon::scrapeUntil(const std::function<bool(const Metrics&)>& condition,
                                           std::chrono::milliseconds timeout,
                                           std::string* error) const {
  std::optional<Metrics> last;
  waitUntil(
      [&] {
        last = scrape(error);
        return last && condition(*last);
      },
      timeout);
  return last;
}

::testing::AssertionResult Daemon::waitMetric(const std::string& name, const Labels& labels,
                                              double at_least, std::chrono::milliseconds timeout,
                                              Metrics* last) const {
  std::string error;
  const auto m = scrapeUntil(
      [&](const Metrics& scraped) { return scraped.valueOr0(name, labels) >= at_least; }, timeout,
      &error);
  if (!m) return ::testing::AssertionFailure() << "cannot scrape /metrics: " << error;
  if (last != nullptr) *last = *m;
  if (m->valueOr0(name, labels) < at_least) {
    return ::testing::AssertionFailure()
           << name << " is " << m->valueOr0(name, labels) << ", not yet " << at_least;
  }
  return ::testing::AssertionSuccess();
}

TcpClient::TcpClient(int port) : fd_(connectLoopback(port, 20s)) {
  if (fd_ < 0) {
    throw std::runtime_error("connect to source port " + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
}

bool TcpClient::send(std::string_view data) { return sendAll(fd_, data); }

void TcpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TcpClient::reset() {
  const linger abort{1, 0};
  if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  close();
}

}  // namespace rivulet::testutil
