#include "connectors/sources/tcp_source.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/endpoint.h"
#include "connectors/formats/line_framer.h"
#include "connectors/sources/inet_socket.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {
constexpr int kPollMs = 20;  // how soon a stop request or an idle timeout is noticed
}  // namespace

struct TcpSource::Client {
  explicit Client(std::size_t max_line) : framer(max_line) {}
  LineFramer framer;
  EventDecoder::Stream stream;
};

TcpSource::TcpSource(const config::SourceConfig& spec, pipeline::EventRouter router,
                     pipeline::SourceStats* stats)
    : name_(spec.name),
      spec_(spec.tcp),
      router_(std::move(router)),
      stats_(stats),
      decoder_(router_, spec) {
  listen_fd_ = bindInet(name_, spec_.listen, SOCK_STREAM, SOCK_NONBLOCK);
  port_ = localPort(listen_fd_);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

TcpSource::~TcpSource() {
  for (auto& [fd, client] : clients_) ::close(fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string TcpSource::where() const {
  return "listening on " + config::formatEndpoint({spec_.listen.host, port_});
}

void TcpSource::run(std::stop_token stop) {
  epoll_event events[64];
  while (!stop.stop_requested()) {
    const int n = epoll_wait(epoll_fd_, events, 64, kPollMs);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        accept();
      } else if (auto it = clients_.find(fd); it != clients_.end()) {
        read(fd, *it->second);
      }
    }
    router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
    if (accept_paused_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listen_fd_;
      accept_paused_ = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0;
    }
  }
  router_.end(true);
}

void TcpSource::accept() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: the pending connection keeps the socket readable, and
        // level-triggered epoll would wake us in a loop. Stop listening for one tick.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_ = true;
      }
      return;  // EAGAIN: none left; other errors: try again on the next wake-up
    }
    if (clients_.size() >= static_cast<std::size_t>(spec_.max_connections)) {
      // Over max_connections: refused. Counted before the close, so whoever sees the close
      // also sees the count.
      router_.countRefusedConnection();
      ::close(fd);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    clients_.emplace(fd, std::make_unique<Client>(static_cast<std::size_t>(spec_.max_line)));
    countConnections();
  }
}

void TcpSource::read(int fd, Client& client) {
  // A fair share per wake-up: one chatty client cannot starve the others (level-triggered epoll
  // brings us back for the rest).
  for (int rounds = 0; rounds < 16; ++rounds) {
    const std::span<char> into = client.framer.writable();
    const ssize_t n = ::recv(fd, into.data(), into.size(), 0);
    const std::int64_t now = pipeline::wallNanos();
    if (n > 0) {
      if (stats_ != nullptr) pipeline::bump(stats_->bytes, static_cast<std::uint64_t>(n));
      client.framer.commit(
          static_cast<std::size_t>(n),
          [&](std::string_view line, std::size_t capacity) {
            decoder_.line(client.stream, line, capacity, now);
          },
          [&] { decoder_.refuse(pipeline::ErrorReason::kLineTooLong); });
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // Closed (or reset): a last line without newline is still an event.
    client.framer.finish(
        [&](std::string_view line, std::size_t capacity) {
          decoder_.line(client.stream, line, capacity, now);
        },
        [&] { decoder_.refuse(pipeline::ErrorReason::kLineTooLong); });
    close(fd);
    return;
  }
}

void TcpSource::close(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  clients_.erase(fd);
  countConnections();
}

void TcpSource::countConnections() noexcept {
  if (stats_ != nullptr) {
    stats_->connections.store(static_cast<std::int64_t>(clients_.size()),
                              std::memory_order_relaxed);
  }
}

}  // namespace rivulet::connectors
