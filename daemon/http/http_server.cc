#include "daemon/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "config/endpoint.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

constexpr std::int64_t kNanosPerMilli = 1'000'000;
// What is read and dropped after a response, at most, before the connection is closed anyway.
constexpr std::size_t kMaxDrainBytes = 1 << 20;
// Out of file descriptors, accepting waits this long before it tries again.
constexpr std::int64_t kAcceptPauseNs = 100 * kNanosPerMilli;
constexpr int kBacklog = 64;

std::runtime_error failure(const std::string& where, const std::string& what, int error) {
  return std::runtime_error("cannot listen on " + where + ": " + what +
                            (error != 0 ? std::string(": ") + std::strerror(error) : ""));
}

}  // namespace

struct HttpServer::Connection {
  enum class Phase { kReading, kWriting, kDraining, kDone };
  int fd = -1;
  Phase phase = Phase::kReading;
  std::int64_t deadline = 0;  // steady ns: the connection is closed then, whatever its phase
  std::string in;             // the request head, as far as it came
  std::string out;            // the response
  std::size_t sent = 0;       // of out
  std::size_t drained = 0;
};

HttpServer::HttpServer(const config::Endpoint& address, HttpRoutes routes, HttpLimits limits)
    : routes_(std::move(routes)), limits_(limits) {
  const std::string where = config::formatEndpoint(address);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  if (const int rc = ::getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(),
                                   &hints, &addresses)) {
    throw failure(where, gai_strerror(rc), 0);
  }
  int error = EADDRNOTAVAIL;
  for (addrinfo* a = addresses; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = errno;
      continue;
    }
    // A restart must not wait for the last run's connections in TIME_WAIT; a port another
    // socket listens on still fails.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, kBacklog) == 0) {
      listen_fd_ = fd;
    } else {
      error = errno;
      ::close(fd);
    }
  }
  ::freeaddrinfo(addresses);
  if (listen_fd_ < 0) throw failure(where, "bind", error);
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &size);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  startThread();
}

HttpServer::HttpServer(const std::string& path, HttpRoutes routes, HttpLimits limits)
    : routes_(std::move(routes)), limits_(limits), path_(path) {
  const std::string where = "unix:" + path_;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) {  // the loader checks; a guard for other callers
    throw failure(where, "path", ENAMETOOLONG);
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);

  // A socket file outlives the process that bound it: one left by a run that was killed is
  // ours to replace, but a file of any other kind is someone else's.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw failure(where, "exists and is not a socket", EEXIST);
    if (::unlink(path_.c_str()) != 0) throw failure(where, "cannot remove the old socket", errno);
  }

  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw failure(where, "socket", errno);
  const auto fail = [&](const char* what, bool made_file) {
    const std::runtime_error error = failure(where, what, errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    if (made_file) ::unlink(path_.c_str());
    return error;
  };
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw fail("bind", false);
  }
  // Before listen(): until then nobody can connect, so the umask's mode is never in effect.
  // 0660 lets the service's group scrape; the directory's permissions decide who reaches it.
  if (::chmod(path_.c_str(), 0660) != 0 || ::lstat(path_.c_str(), &st) != 0) {
    throw fail("chmod 0660", true);
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if (::listen(listen_fd_, kBacklog) != 0) throw fail("listen", true);
  startThread();
}

void HttpServer::startThread() {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    const int error = errno;
    ::close(listen_fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
    throw failure(path_.empty() ? "port " + std::to_string(port_) : "unix:" + path_, "eventfd",
                  error);
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "rv-http");
    run();
  });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of overflowing the counter: stop() runs once.
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  if (path_.empty()) return;
  // Remove the file only if it is still the one we bound: a second daemon started on the same
  // path since then has replaced it with its own.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

// The server's thread. Each turn polls the stop eventfd, the listening socket (while under the
// cap) and every connection for what its phase waits for, until the nearest deadline.
void HttpServer::run() {
  std::vector<Connection> connections;
  std::vector<pollfd> fds;
  for (;;) {
    std::int64_t now = pipeline::steadyNanos();
    const bool accepting =
        connections.size() < limits_.max_connections && now >= accept_paused_until_;
    std::int64_t wake = accepting ? INT64_MAX : accept_paused_until_;
    fds.clear();
    fds.push_back({stop_fd_, POLLIN, 0});
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});  // poll() skips a negative fd
    for (const Connection& c : connections) {
      fds.push_back(
          {c.fd, static_cast<short>(c.phase == Connection::Phase::kWriting ? POLLOUT : POLLIN), 0});
      wake = std::min(wake, c.deadline);
    }
    // Rounded up, so that the deadline has passed when poll() times out; at most a minute a
    // turn, so that it fits an int.
    const int timeout_ms =
        wake == INT64_MAX ? -1
                          : static_cast<int>(std::clamp<std::int64_t>(
                                (wake - now + kNanosPerMilli - 1) / kNanosPerMilli, 0, 60'000));
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) continue;  // EINTR, ENOMEM: again
    if (fds[0].revents != 0) break;
    now = pipeline::steadyNanos();
    for (std::size_t i = 0; i < connections.size(); ++i) {
      if (fds[i + 2].revents != 0) advance(connections[i], now);
    }
    std::erase_if(connections, [&](const Connection& c) {
      const bool over = c.phase == Connection::Phase::kDone || now >= c.deadline;
      if (over) ::close(c.fd);
      return over;
    });
    if (fds[1].revents != 0) accept(connections, now);
  }
  for (const Connection& c : connections) ::close(c.fd);
}

void HttpServer::accept(std::vector<Connection>& connections, std::int64_t now) {
  while (connections.size() < limits_.max_connections) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors the pending connection keeps the socket readable: poll() would wake
      // at once, again and again. Leave it out for a while.
      if (errno == EMFILE || errno == ENFILE) accept_paused_until_ = now + kAcceptPauseNs;
      return;  // EAGAIN: none left; other errors (the client went away): the next one
    }
    Connection& c = connections.emplace_back();
    c.fd = fd;
    c.deadline = now + limits_.read_timeout_ns;
  }
}

void HttpServer::advance(Connection& c, std::int64_t now) const {
  switch (c.phase) {
    case Connection::Phase::kReading:
      read(c, now);
      break;
    case Connection::Phase::kWriting:
      write(c, now);
      break;
    case Connection::Phase::kDraining:
      drain(c);
      break;
    case Connection::Phase::kDone:
      break;
  }
}

void HttpServer::read(Connection& c, std::int64_t now) const {
  char buffer[4096];
  for (;;) {
    const std::size_t end = c.in.find("\r\n\r\n");
    if (end != std::string::npos) {
      c.in.resize(end + 4);
      c.out = routes_.respond(c.in);
    } else if (c.in.size() >= limits_.max_head_bytes) {
      c.out = httpError(431);
    }
    if (!c.out.empty()) {
      c.in = std::string();
      c.phase = Connection::Phase::kWriting;
      c.deadline = now + limits_.write_timeout_ns;
      write(c, now);
      return;
    }
    // Never more than the head may hold: what is beyond is not looked at.
    const std::size_t room = std::min(sizeof buffer, limits_.max_head_bytes - c.in.size());
    const ssize_t n = ::recv(c.fd, buffer, room, 0);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      c.phase = Connection::Phase::kDone;  // closed before the request was whole, or an error
      return;
    }
  }
}

void HttpServer::write(Connection& c, std::int64_t now) const {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      c.phase = Connection::Phase::kDone;
      return;
    }
  }
  // Closing a socket with unread input resets the connection, and the client may then get
  // ECONNRESET instead of the response it has not read yet (a 431 leaves the rest of its request
  // unread): end our side, and read what is left until the client closes its own, for a bounded
  // time and amount.
  c.out = std::string();
  ::shutdown(c.fd, SHUT_WR);
  c.phase = Connection::Phase::kDraining;
  c.deadline = now + limits_.read_timeout_ns;
  drain(c);
}

void HttpServer::drain(Connection& c) const {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.drained += static_cast<std::size_t>(n);
      if (c.drained >= kMaxDrainBytes) break;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      break;
    }
  }
  c.phase = Connection::Phase::kDone;
}

}  // namespace rivulet::daemon
