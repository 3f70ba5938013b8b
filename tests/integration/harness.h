// Harness for the integration tests: the real rivuletd as a child process in a fresh temp dir,
// its log read for the ports it bound, a ZeroMQ subscriber over tcp:// and ipc://, a minimal HTTP
// client and parser for /metrics, result payload parsing, and a brute-force window reference that
// re-aggregates the events a test sent. Every wait is on a condition with a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

extern char** environ;

namespace rivulet::itest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

inline const std::string kDaemonPath = RIVULET_BINARY_DIR "/daemon/rivuletd";
inline const std::string kSourceDir = RIVULET_SOURCE_DIR;

// ---------------------------------------------------------------------------------------------
// Waiting

// Evaluates `condition` every `poll` until it holds or `timeout` has passed; returns whether it
// held. The only sleeping the tests do is this polling.
template <typename Condition>
bool waitUntil(Condition&& condition, milliseconds timeout, milliseconds poll = 5ms) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

// ---------------------------------------------------------------------------------------------
// Files

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it unless
// RIVULET_KEEP_TEST_DIRS is set in the environment.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rivulet-it-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~TempDir() {
    if (std::getenv("RIVULET_KEEP_TEST_DIRS") != nullptr) {
      std::fprintf(stderr, "[harness] kept %s\n", path_.c_str());
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline void writeFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Appends with one write(2) per call, so a reader following the file never sees half a call.
inline void appendFile(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw std::runtime_error("cannot append to " + path + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Child processes

// Exit code as a shell reports it: the status for a normal exit, 128 + signal for a kill.
inline int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// A child started with posix_spawn, stdin from /dev/null and stdout/stderr into files. Killed
// (SIGKILL) and reaped on destruction if it is still running, so a failing test leaves nothing.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
               const std::string& stderr_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
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
    const int rc = posix_spawn(&pid_, argv.front().c_str(), &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn " + argv.front() + ": " + std::strerror(rc));
    }
  }
  ~ChildProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool signal(int sig) const { return !status_ && ::kill(pid_, sig) == 0; }

  // The exit code if the child has exited (reaps it), without waiting.
  std::optional<int> poll() {
    if (!status_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = exitCodeOf(status);
    }
    return status_;
  }
  bool running() { return !poll().has_value(); }

  // Waits up to `timeout` for the child to exit; its exit code, or nullopt if still running.
  std::optional<int> wait(milliseconds timeout) {
    waitUntil([&] { return poll().has_value(); }, timeout, 2ms);
    return status_;
  }

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
inline CommandResult runCommand(const TempDir& dir, const std::vector<std::string>& argv,
                                milliseconds timeout = 30s) {
  static std::atomic<int> runs{0};
  const std::string base = dir.file("cmd-" + std::to_string(runs++));
  CommandResult result;
  {
    ChildProcess child(argv, base + ".out", base + ".err");
    result.exit_code = child.wait(timeout);
  }
  result.out = readFile(base + ".out");
  result.err = readFile(base + ".err");
  return result;
}

// ---------------------------------------------------------------------------------------------
// HTTP and /metrics

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool decodeChunked(std::string_view in, std::string& out) {
  out.clear();
  for (;;) {
    const std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    const std::size_t size = std::strtoul(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return true;
    if (in.size() < size + 2) return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

// A TCP connection to 127.0.0.1:port with send/receive timeouts, or -1 (errno set).
inline int connectLoopback(int port, milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace detail

// GET http://127.0.0.1:port/path over a plain socket (HTTP/1.1, Connection: close).
inline std::optional<HttpResponse> httpGet(int port, const std::string& path, std::string* error,
                                           milliseconds timeout = 5s) {
  const int fd = detail::connectLoopback(port, timeout);
  if (fd < 0) {
    *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                              std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  std::string raw;
  bool ok = detail::sendAll(fd, request);
  char buffer[16384];
  while (ok) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!ok) {
    *error = "GET " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  const std::size_t split = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || split == std::string::npos || raw.size() < 12) {
    *error = "GET " + path + ": not an HTTP response: " + raw.substr(0, 200);
    return std::nullopt;
  }
  HttpResponse response;
  response.status = std::atoi(raw.c_str() + 9);
  response.headers = raw.substr(0, split);
  response.body = raw.substr(split + 4);
  const std::string headers = detail::lower(response.headers);
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    std::string body;
    if (!detail::decodeChunked(response.body, body)) {
      *error = "GET " + path + ": bad chunked body";
      return std::nullopt;
    }
    response.body = std::move(body);
  } else if (const std::size_t at = headers.find("content-length:"); at != std::string::npos) {
    const std::size_t length = std::strtoul(headers.c_str() + at + 15, nullptr, 10);
    if (response.body.size() < length) {
      *error = "GET " + path + ": body shorter than Content-Length";
      return std::nullopt;
    }
    response.body.resize(length);
  }
  return response;
}

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// The samples of a Prometheus text exposition: `name{label="value",...} value [timestamp]`.
class Metrics {
 public:
  static std::optional<Metrics> parse(std::string_view text, std::string* error) {
    Metrics metrics;
    for (const std::string& line : splitLines(text)) {
      if (line.empty() || line[0] == '#') continue;
      Sample sample;
      std::size_t i = line.find_first_of("{ ");
      if (i == std::string::npos) return fail(error, line);
      sample.name = line.substr(0, i);
      if (line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
          const std::size_t eq = line.find('=', i);
          if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
            return fail(error, line);
          const std::string name = line.substr(i, eq - i);
          std::string value;
          std::size_t j = eq + 2;
          for (; j < line.size() && line[j] != '"'; ++j) {
            if (line[j] == '\\' && j + 1 < line.size()) {
              ++j;
              value.push_back(line[j] == 'n' ? '\n' : line[j]);
            } else {
              value.push_back(line[j]);
            }
          }
          if (j >= line.size()) return fail(error, line);
          sample.labels[name] = value;
          i = j + 1;
          if (i < line.size() && line[i] == ',') ++i;
        }
        if (i >= line.size()) return fail(error, line);
        ++i;  // '}'
      }
      while (i < line.size() && line[i] == ' ') ++i;
      const std::string value = line.substr(i, line.find(' ', i) - i);
      char* end = nullptr;
      sample.value = std::strtod(value.c_str(), &end);  // also "NaN", "+Inf"
      if (value.empty() || *end != '\0') return fail(error, line);
      metrics.samples_.push_back(std::move(sample));
    }
    return metrics;
  }

  // The sample with exactly these labels.
  std::optional<double> value(std::string_view name, const Labels& labels = {}) const {
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  // Like value(), 0 when absent (for counters that may not be exported before their first use).
  double valueOr0(std::string_view name, const Labels& labels = {}) const {
    return value(name, labels).value_or(0);
  }
  std::vector<Sample> all(std::string_view name) const {
    std::vector<Sample> out;
    for (const Sample& s : samples_) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
  double sum(std::string_view name) const {
    double total = 0;
    for (const Sample& s : samples_) {
      if (s.name == name) total += s.value;
    }
    return total;
  }
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  static std::optional<Metrics> fail(std::string* error, const std::string& line) {
    *error = "cannot parse metrics line: " + line;
    return std::nullopt;
  }
  std::vector<Sample> samples_;
};

// ---------------------------------------------------------------------------------------------
// The daemon

// rivuletd --config <dir>/rivulet.yaml, stderr into <dir>/rivuletd.log. waitReady() reads the log
// for the ports it bound.
class Daemon {
 public:
  Daemon(const TempDir& dir, std::string_view config_yaml,
         std::vector<std::string> extra_args = {})
      : config_path_(dir.file("rivulet.yaml")), log_path_(dir.file("rivuletd.log")) {
    writeFile(config_path_, config_yaml);
    std::vector<std::string> argv{kDaemonPath, "--config", config_path_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_.emplace(argv, dir.file("rivuletd.out"), log_path_);
  }
  ~Daemon() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "[harness] rivuletd log (%s):\n%s\n", log_path_.c_str(),
                   log().c_str());
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Waits for the "running" line (logged once every socket is bound and every thread started)
  // and parses the metrics port, the publish endpoints and the tcp source ports.
  ::testing::AssertionResult waitReady(milliseconds timeout = 30s) {
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
      } else if (const std::size_t at = line.find("publishing results on ");
                 at != std::string::npos) {
        publish_.push_back(line.substr(at + 22));
      } else if (const std::size_t at = line.find("source "); at != std::string::npos) {
        const std::size_t listening = line.find(" listening on ", at);
        if (listening == std::string::npos) continue;
        const std::string name = line.substr(at + 7, listening - (at + 7));
        source_ports_[name] = std::atoi(line.c_str() + line.rfind(':') + 1);
      }
    }
    if (metrics_port_ <= 0) return ::testing::AssertionFailure() << "no metrics port:\n" << log();
    return ::testing::AssertionSuccess();
  }

  int metricsPort() const { return metrics_port_; }
  const std::vector<std::string>& publishEndpoints() const { return publish_; }
  // The bound endpoint whose configured form starts with `scheme` ("tcp://", "ipc://").
  std::string publishEndpoint(std::string_view scheme) const {
    for (const std::string& e : publish_) {
      if (e.rfind(scheme, 0) == 0) return e;
    }
    return {};
  }
  int sourcePort(const std::string& name) const {
    const auto it = source_ports_.find(name);
    return it == source_ports_.end() ? 0 : it->second;
  }
  std::string log() const { return readFile(log_path_); }
  const std::string& configPath() const { return config_path_; }
  ChildProcess& process() { return *process_; }

  std::optional<Metrics> scrape(std::string* error) const {
    const auto response = httpGet(metrics_port_, "/metrics", error);
    if (!response) return std::nullopt;
    if (response->status != 200) {
      *error = "/metrics: HTTP " + std::to_string(response->status);
      return std::nullopt;
    }
    return Metrics::parse(response->body, error);
  }

  // Scrapes until `condition(metrics)` holds; the last scrape (whether or not it held).
  template <typename Condition>
  std::optional<Metrics> scrapeUntil(Condition&& condition, milliseconds timeout,
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

 private:
  std::string config_path_;
  std::string log_path_;
  std::optional<ChildProcess> process_;
  int metrics_port_ = 0;
  std::vector<std::string> publish_;
  std::map<std::string, int> source_ports_;
};

// A client connection to a tcp source.
class TcpClient {
 public:
  explicit TcpClient(int port) : fd_(detail::connectLoopback(port, 20s)) {
    if (fd_ < 0) {
      throw std::runtime_error("connect to source port " + std::to_string(port) + ": " +
                               std::strerror(errno));
    }
  }
  ~TcpClient() { close(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  bool send(std::string_view data) { return detail::sendAll(fd_, data); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------------------------
// ZeroMQ subscriber

struct Message {
  std::string topic;
  std::string payload;
};

// A SUB socket with its own context, collecting [topic, payload] messages. It has no receive
// limit, so nothing is dropped while the test is busy elsewhere.
class Subscriber {
 public:
  explicit Subscriber(const std::string& endpoint, const std::vector<std::string>& prefixes = {""})
      : context_(1),
        socket_(context_, zmq::socket_type::sub),
        monitor_(context_, zmq::socket_type::pair),
        endpoint_(endpoint) {
    static std::atomic<int> ids{0};
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 0);
    monitor_.set(zmq::sockopt::linger, 0);
    const std::string monitor = "inproc://itest-sub-monitor-" + std::to_string(ids++);
    if (zmq_socket_monitor(socket_.handle(), monitor.c_str(), ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
      throw zmq::error_t();
    monitor_.connect(monitor);
    for (const std::string& prefix : prefixes) socket_.set(zmq::sockopt::subscribe, prefix);
    socket_.connect(endpoint);
  }
  ~Subscriber() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

  // Waits for the ZeroMQ handshake with the publisher: after it our subscriptions are on the wire
  // ahead of anything the test sends the daemon next.
  ::testing::AssertionResult waitConnected(milliseconds timeout = 20s) {
    zmq::pollitem_t items[] = {{monitor_.handle(), 0, ZMQ_POLLIN, 0}};
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      zmq::poll(items, 1, 20ms);
      zmq::message_t event;
      while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
        std::uint16_t id = 0;
        if (event.size() >= sizeof id) std::memcpy(&id, event.data(), sizeof id);
        for (bool more = event.more(); more;) {  // the second frame: the endpoint
          zmq::message_t frame;
          more = monitor_.recv(frame, zmq::recv_flags::dontwait) && frame.more();
        }
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) return ::testing::AssertionSuccess();
      }
    }
    return ::testing::AssertionFailure() << "no ZeroMQ handshake with " << endpoint_;
  }

  // Takes every message already queued.
  void take() {
    for (;;) {
      zmq::message_t topic;
      if (!socket_.recv(topic, zmq::recv_flags::dontwait)) return;
      Message m{topic.to_string(), {}};
      if (topic.more()) {
        zmq::message_t payload;
        (void)socket_.recv(payload);  // the rest of a multipart message is already here
        m.payload = payload.to_string();
        while (payload.more()) {  // more frames than the contract's two: keep them visible
          (void)socket_.recv(payload);
          m.payload += "\n<extra frame>" + payload.to_string();
        }
      }
      messages_.push_back(std::move(m));
    }
  }

  // Receives until done(messages()) holds or `timeout` passes; returns whether it held.
  template <typename Done>
  bool receiveUntil(Done&& done, milliseconds timeout) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      take();
      if (done(messages_)) return true;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      zmq::poll(items, 1, std::min<milliseconds>(left, 50ms));
    }
  }

  // Collects whatever arrives within `period` (to see that nothing more comes).
  void receiveFor(milliseconds period) {
    receiveUntil([](const std::vector<Message>&) { return false; }, period);
  }

  const std::vector<Message>& messages() const { return messages_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
  std::string endpoint_;
  std::vector<Message> messages_;
};

// ---------------------------------------------------------------------------------------------
// Result payloads (DESIGN §3)

struct JsonNumber {
  enum class Type { kNull, kInteger, kDouble } type = Type::kNull;
  std::int64_t integer = 0;
  double number = 0;  // also set for integers
};

struct Result {
  std::string topic;
  std::string payload;
  std::string pipeline;
  std::int64_t seq = 0;
  std::string kind;
  std::int64_t start = 0;
  std::int64_t end = 0;
  // The key object in order: field -> the string's value, or the JSON text of a non-string.
  std::vector<std::pair<std::string, std::string>> key;
  std::map<std::string, JsonNumber> values;
};

// Parses a result message; nullopt (with the reason) if it does not follow DESIGN §3.
inline std::optional<Result> parseResult(const Message& message, std::string* error) {
  namespace dom = simdjson::dom;
  Result r;
  r.topic = message.topic;
  r.payload = message.payload;
  const auto fail = [&](const std::string& why) {
    *error = why + " in " + message.topic + " " + message.payload;
    return std::nullopt;
  };
  dom::parser parser;
  dom::object object;
  if (parser.parse(message.payload).get_object().get(object)) return fail("not a JSON object");
  std::set<std::string_view> seen;
  for (const dom::key_value_pair field : object) {
    const std::string_view name = field.key;
    if (!seen.insert(name).second) return fail("repeated member \"" + std::string(name) + "\"");
    const dom::element value = field.value;
    if (name == "pipeline" || name == "kind") {
      std::string_view text;
      if (value.get_string().get(text)) return fail(std::string(name) + " is not a string");
      (name == "pipeline" ? r.pipeline : r.kind) = std::string(text);
    } else if (name == "seq" || name == "start" || name == "end") {
      std::int64_t n;
      if (value.get_int64().get(n)) return fail(std::string(name) + " is not an integer");
      (name == "seq" ? r.seq : name == "start" ? r.start : r.end) = n;
    } else if (name == "key") {
      dom::object key;
      if (value.get_object().get(key)) return fail("key is not an object");
      for (const dom::key_value_pair part : key) {
        std::string_view text;
        if (part.value.get_string().get(text)) {
          r.key.emplace_back(std::string(part.key), simdjson::minify(part.value));
        } else {
          r.key.emplace_back(std::string(part.key), std::string(text));
        }
      }
    } else if (name == "values") {
      dom::object values;
      if (value.get_object().get(values)) return fail("values is not an object");
      for (const dom::key_value_pair v : values) {
        JsonNumber n;
        switch (v.value.type()) {
          case dom::element_type::NULL_VALUE:
            break;
          case dom::element_type::INT64:
            n.type = JsonNumber::Type::kInteger;
            n.integer = v.value.get_int64().value_unsafe();
            n.number = static_cast<double>(n.integer);
            break;
          case dom::element_type::UINT64:
            n.type = JsonNumber::Type::kInteger;
            n.integer = static_cast<std::int64_t>(v.value.get_uint64().value_unsafe());
            n.number = static_cast<double>(v.value.get_uint64().value_unsafe());
            break;
          case dom::element_type::DOUBLE:
            n.type = JsonNumber::Type::kDouble;
            n.number = v.value.get_double().value_unsafe();
            break;
          default:
            return fail("value \"" + std::string(v.key) + "\" is not a number or null");
        }
        if (!r.values.emplace(std::string(v.key), n).second) {
          return fail("repeated value \"" + std::string(v.key) + "\"");
        }
      }
    } else {
      return fail("unexpected member \"" + std::string(name) + "\"");
    }
  }
  for (const char* required : {"pipeline", "seq", "kind", "start", "end", "key", "values"}) {
    if (!seen.count(required)) return fail(std::string("no \"") + required + "\"");
  }
  return r;
}

// Every message whose topic is not a control topic (_window/, _late/) parsed as a result; a
// message that does not parse is a test failure.
inline std::vector<Result> parseResults(const std::vector<Message>& messages) {
  std::vector<Result> results;
  for (const Message& m : messages) {
    if (m.topic.rfind("_", 0) == 0) continue;
    std::string error;
    if (auto r = parseResult(m, &error)) {
      results.push_back(std::move(*r));
    } else {
      ADD_FAILURE() << error;
    }
  }
  return results;
}

inline std::vector<Message> messagesFromJsonLines(std::string_view text) {
  std::vector<Message> messages;
  for (const std::string& line : splitLines(text)) {
    if (!line.empty()) messages.push_back(Message{"(jsonl)", line});
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// Brute-force reference

enum class Agg { kCount, kSum, kMin, kMax, kAvg, kFirst, kLast };

struct AggregateSpec {
  std::string name;
  Agg kind;
};

// One window and key, aggregated the obvious way.
struct RefState {
  std::int64_t count = 0;
  std::int64_t n = 0;  // non-null values
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::int64_t first_ts = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();
  double first = 0;
  double last = 0;

  void add(std::int64_t ts, std::optional<double> value) {
    ++count;
    if (!value) return;
    ++n;
    sum += *value;
    min = std::min(min, *value);
    max = std::max(max, *value);
    // Ties in time: first keeps the earliest added, last takes the latest added.
    if (ts < first_ts) {
      first_ts = ts;
      first = *value;
    }
    if (ts >= last_ts) {
      last_ts = ts;
      last = *value;
    }
  }
};

struct WindowId {
  std::int64_t start = 0;  // ms
  std::int64_t end = 0;    // ms
  std::vector<std::string> key;
  auto operator<=>(const WindowId&) const = default;
};

inline std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// The windows of one pipeline (epoch-aligned, [start, start + size) for start a multiple of
// slide), re-aggregated from the raw events.
class WindowReference {
 public:
  WindowReference(std::string pipeline, std::vector<std::string> group_by, std::int64_t size_ms,
                  std::int64_t slide_ms)
      : pipeline_(std::move(pipeline)),
        group_by_(std::move(group_by)),
        size_(size_ms),
        slide_(slide_ms) {}

  // Adds an event as the daemon must when its watermark is `watermark_ms` (allowed lateness 0):
  // to every window containing ts whose end the watermark has not reached. Returns false if there
  // is none: the event is late.
  bool add(std::int64_t ts_ms, const std::vector<std::string>& key, std::optional<double> value,
           std::int64_t watermark_ms = std::numeric_limits<std::int64_t>::min()) {
    bool added = false;
    for (std::int64_t start = floorDiv(ts_ms, slide_) * slide_; start > ts_ms - size_;
         start -= slide_) {
      if (start + size_ <= watermark_ms) continue;
      windows_[WindowId{start, start + size_, key}].add(ts_ms, value);
      added = true;
    }
    if (added) {
      ++events_;
    } else {
      ++late_;
    }
    return added;
  }

  std::string topic(const WindowId& id) const {
    std::string topic = pipeline_ + "/";
    for (const std::string& part : id.key) topic += part + "/";
    return topic;
  }

  const std::string& pipeline() const { return pipeline_; }
  const std::vector<std::string>& groupBy() const { return group_by_; }
  const std::map<WindowId, RefState>& windows() const { return windows_; }
  std::int64_t events() const { return events_; }  // events added to at least one window
  std::int64_t late() const { return late_; }

  // The windows the watermark `watermark_ms` fires (end <= watermark), or those it leaves open.
  std::size_t countFired(std::int64_t watermark_ms, bool fired = true) const {
    return static_cast<std::size_t>(
        std::count_if(windows_.begin(), windows_.end(),
                      [&](const auto& w) { return (w.first.end <= watermark_ms) == fired; }));
  }

 private:
  std::string pipeline_;
  std::vector<std::string> group_by_;
  std::int64_t size_;
  std::int64_t slide_;
  std::map<WindowId, RefState> windows_;
  std::int64_t events_ = 0;
  std::int64_t late_ = 0;
};

// Equal to 1e-9 relative (sums may be added up in another order than the reference's).
inline bool closeRelative(double got, double want) {
  if (got == want) return true;
  return std::abs(got - want) <= 1e-9 * std::max(std::abs(want), std::abs(got));
}

// Compares one result's values with the reference state: counts as integers, sum and avg to 1e-9
// relative, min/max/first/last exactly (they are input values, which round-trip); null where no
// non-null value arrived.
inline void expectValuesMatch(const Result& got, const RefState& want,
                              const std::vector<AggregateSpec>& aggregates) {
  SCOPED_TRACE(got.topic + " " + got.payload);
  EXPECT_EQ(got.values.size(), aggregates.size());
  for (const AggregateSpec& a : aggregates) {
    const auto it = got.values.find(a.name);
    if (it == got.values.end()) {
      ADD_FAILURE() << "no value \"" << a.name << "\"";
      continue;
    }
    const JsonNumber& v = it->second;
    if (a.kind == Agg::kCount) {
      EXPECT_EQ(v.type, JsonNumber::Type::kInteger) << a.name << ": a count is an integer";
      EXPECT_EQ(v.integer, want.count) << a.name;
      continue;
    }
    if (want.n == 0) {
      EXPECT_EQ(v.type, JsonNumber::Type::kNull) << a.name << ": no input, expected null";
      continue;
    }
    if (v.type == JsonNumber::Type::kNull) {
      ADD_FAILURE() << a.name << " is null";
      continue;
    }
    switch (a.kind) {
      case Agg::kCount:
        break;
      case Agg::kSum:
        EXPECT_PRED2(closeRelative, v.number, want.sum) << a.name;
        break;
      case Agg::kAvg:
        EXPECT_PRED2(closeRelative, v.number, want.sum / static_cast<double>(want.n)) << a.name;
        break;
      case Agg::kMin:
        EXPECT_EQ(v.number, want.min) << a.name;
        break;
      case Agg::kMax:
        EXPECT_EQ(v.number, want.max) << a.name;
        break;
      case Agg::kFirst:
        EXPECT_EQ(v.number, want.first) << a.name;
        break;
      case Agg::kLast:
        EXPECT_EQ(v.number, want.last) << a.name;
        break;
    }
  }
}

// Compares the results of `reference`'s pipeline with kind `kind` against the reference windows
// `select` picks: the same set of (window, key), each once, with the right topic, key object and
// values.
inline void expectResultsMatch(const std::vector<Result>& results, std::string_view kind,
                               const WindowReference& reference,
                               const std::vector<AggregateSpec>& aggregates,
                               const std::function<bool(const WindowId&)>& select) {
  SCOPED_TRACE("pipeline " + reference.pipeline() + ", kind " + std::string(kind));
  std::map<WindowId, const Result*> got;
  for (const Result& r : results) {
    if (r.pipeline != reference.pipeline() || r.kind != kind) continue;
    WindowId id{r.start, r.end, {}};
    std::vector<std::string> fields;
    for (const auto& [field, value] : r.key) {
      fields.push_back(field);
      id.key.push_back(value);
    }
    EXPECT_EQ(fields, reference.groupBy()) << "key fields of " << r.payload;
    EXPECT_EQ(r.topic, reference.topic(id)) << r.payload;
    if (!got.emplace(id, &r).second) ADD_FAILURE() << "duplicate result: " << r.payload;
  }
  std::size_t expected = 0, missing = 0;
  for (const auto& [id, state] : reference.windows()) {
    if (!select(id)) continue;
    ++expected;
    const auto it = got.find(id);
    if (it == got.end()) {
      if (++missing <= 10) {
        ADD_FAILURE() << "missing result " << reference.topic(id) << " [" << id.start << ", "
                      << id.end << ") count " << state.count;
      }
      continue;
    }
    expectValuesMatch(*it->second, state, aggregates);
    got.erase(it);
  }
  EXPECT_EQ(missing, 0u) << "of " << expected << " expected results";
  std::size_t extra = 0;
  for (const auto& [id, r] : got) {
    if (++extra <= 10) ADD_FAILURE() << "unexpected result: " << r->topic << " " << r->payload;
  }
  EXPECT_EQ(extra, 0u) << "unexpected results";
}

// seq starts at 1 and rises by 1 per message of each pipeline, in arrival order.
inline void expectSeqWithoutGaps(const std::vector<Result>& results) {
  std::map<std::string, std::int64_t> last;
  for (const Result& r : results) {
    std::int64_t& seq = last[r.pipeline];
    EXPECT_EQ(r.seq, seq + 1) << "seq gap or reorder at " << r.payload;
    seq = r.seq;
  }
}

}  // namespace rivulet::itest
