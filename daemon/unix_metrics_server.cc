#include "daemon/unix_metrics_server.h"

#include <fcntl.h>
#include <poll.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "daemon/log.h"
#include "pipeline/clock.h"

namespace rivulet::daemon {
namespace {

constexpr std::int64_t kNanosPerMilli = 1'000'000;
// What is read and dropped after a response, at most, before the connection is closed anyway.
constexpr std::size_t kMaxDrainBytes = 1 << 20;
// What prometheus-cpp's Exposer answers with (pull/src/handler.cc).
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string response(int status, std::string_view reason, std::string_view content_type,
                     std::string_view body, bool head_only = false) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

std::string plain(int status, std::string_view reason) {
  return response(status, reason, "text/plain; charset=utf-8", std::string(reason) + "\n");
}

std::runtime_error failure(const std::string& path, const std::string& what) {
  return std::runtime_error("metrics: cannot listen on unix:" + path + ": " + what + ": " +
                            std::strerror(errno));
}

}  // namespace

std::string httpResponse(std::string_view head, const std::function<std::string()>& metrics) {
  // The request line: METHOD SP target SP HTTP/1.x CRLF.
  const std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return plain(400, "Bad Request");
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return plain(400, "Bad Request");
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!version.starts_with("HTTP/1.") || version.size() != 8 || target.front() != '/') {
    return plain(400, "Bad Request");
  }
  target = target.substr(0, target.find('?'));
  if (target != "/metrics") return plain(404, "Not Found");
  if (method != "GET" && method != "HEAD") {
    std::string out = plain(405, "Method Not Allowed");
    out.insert(out.find("\r\n") + 2, "Allow: GET, HEAD\r\n");
    return out;
  }
  try {
    return response(200, "OK", kMetricsContentType, metrics(), method == "HEAD");
  } catch (const std::exception& e) {
    logError(std::string("metrics: scrape failed: ") + e.what());
    return plain(500, "Internal Server Error");
  }
}

UnixMetricsServer::UnixMetricsServer(std::string path,
                                     std::shared_ptr<const prometheus::Collectable> metrics)
    : path_(std::move(path)), metrics_(std::move(metrics)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) {  // the loader checks; a guard for other callers
    errno = ENAMETOOLONG;
    throw failure(path_, "path");
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);

  // A socket file outlives the process that bound it: one left by a run that was killed is
  // ours to replace, but a file of any other kind is someone else's.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      errno = EEXIST;
      throw failure(path_, "exists and is not a socket");
    }
    if (::unlink(path_.c_str()) != 0) throw failure(path_, "cannot remove the old socket");
  }

  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw failure(path_, "socket");
  const auto fail = [&](const char* what) {
    const std::runtime_error error = failure(path_, what);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return error;
  };
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw fail("bind");
  }
  // Before listen(): until then nobody can connect, so the umask's mode is never in effect.
  // 0660 lets the service's group scrape; the directory's permissions decide who reaches it.
  if (::chmod(path_.c_str(), 0660) != 0 || ::lstat(path_.c_str(), &st) != 0) {
    const std::runtime_error error = fail("chmod 0660");
    ::unlink(path_.c_str());
    throw error;
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if (::listen(listen_fd_, 16) != 0) {
    const std::runtime_error error = fail("listen");
    ::unlink(path_.c_str());
    throw error;
  }
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    const std::runtime_error error = fail("eventfd");
    ::unlink(path_.c_str());
    throw error;
  }
  thread_ = std::thread([this] { run(); });
}

UnixMetricsServer::~UnixMetricsServer() { stop(); }

void UnixMetricsServer::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of overflowing the counter: stop() runs once.
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  // Remove the file only if it is still the one we bound: a second daemon started on the same
  // path since then has replaced it with its own.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

bool UnixMetricsServer::waitFor(int fd, short events, std::int64_t deadline_ns) const {
  for (;;) {
    const std::int64_t left_ns = deadline_ns - pipeline::steadyNanos();
    if (left_ns <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {stop_fd_, POLLIN, 0}};
    // Rounded up, so that the deadline has passed when poll() times out; at most a minute a
    // turn, so that "no deadline" (INT64_MAX) fits an int.
    const std::int64_t wait_ms =
        std::min<std::int64_t>((left_ns + kNanosPerMilli - 1) / kNanosPerMilli, 60'000);
    const int ready = ::poll(fds, 2, static_cast<int>(wait_ms));
    if (ready < 0 && errno != EINTR) return false;
    if (fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

// The server's thread: accepts and serves one connection at a time. A scrape is a few
// milliseconds; a client that dawdles holds the next one up for at most the timeouts.
void UnixMetricsServer::run() {
  while (waitFor(listen_fd_, POLLIN, INT64_MAX)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;  // EAGAIN (the client went away), EMFILE...: poll again
    serve(fd);
    ::close(fd);
  }
}

void UnixMetricsServer::serve(int fd) {
  std::string head;
  const std::int64_t read_deadline = pipeline::steadyNanos() + kReadTimeoutMs * kNanosPerMilli;
  char buffer[4096];
  std::string reply;
  for (;;) {
    const std::size_t end = head.find("\r\n\r\n");
    if (end != std::string::npos && end + 4 <= kMaxHeadBytes) {
      head.resize(end + 4);
      reply = httpResponse(head, [this] {
        std::vector<prometheus::MetricFamily> families = metrics_->Collect();
        std::ostringstream out;
        prometheus::TextSerializer().Serialize(out, families);
        return std::move(out).str();
      });
      break;
    }
    if (head.size() >= kMaxHeadBytes) {
      reply = plain(431, "Request Header Fields Too Large");
      break;
    }
    if (!waitFor(fd, POLLIN, read_deadline)) return;  // too slow, or stopping: just close
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return;  // closed before the request was complete
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return;
    }
    head.append(buffer, static_cast<std::size_t>(n));
  }
  std::string_view rest = reply;
  const std::int64_t write_deadline = pipeline::steadyNanos() + kWriteTimeoutMs * kNanosPerMilli;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!waitFor(fd, POLLOUT, write_deadline)) return;
    } else {
      return;
    }
  }
  // Closing a unix socket with unread input resets the connection, and the client then gets
  // ECONNRESET instead of the response it has not read yet (a 431 leaves the rest of its
  // request unread): end our side, and read what is left until the client closes its own, for
  // a bounded time and amount.
  ::shutdown(fd, SHUT_WR);
  const std::int64_t drain_deadline = pipeline::steadyNanos() + kReadTimeoutMs * kNanosPerMilli;
  std::size_t drained = 0;
  while (drained < kMaxDrainBytes && waitFor(fd, POLLIN, drain_deadline)) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    if (n > 0) drained += static_cast<std::size_t>(n);
  }
}

}  // namespace rivulet::daemon
