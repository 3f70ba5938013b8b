// The service manager's end of sd_notify(3), for the tests: an AF_UNIX datagram socket in a temp
// dir that rivuletd gets as NOTIFY_SOCKET. Each datagram is one notice ("READY=1\nSTATUS=..."),
// received with the sender's pid (SO_PASSCRED), which systemd checks for NotifyAccess=main.
// Receiving waits on the socket with poll() up to a deadline.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/files.h"

namespace rivulet::itest {

struct Notice {
  std::string text;
  pid_t pid = 0;  // the sender, from its credentials

  // The value of NAME=value in the notice, if the notice assigns NAME.
  std::optional<std::string> get(std::string_view name) const {
    for (const std::string& line : splitLines(text)) {
      if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
          line[name.size()] == '=') {
        return line.substr(name.size() + 1);
      }
    }
    return std::nullopt;
  }
  bool has(std::string_view name, std::string_view value) const { return get(name) == value; }
};

class NotifySocket {
 public:
  explicit NotifySocket(const TempDir& dir) : path_(dir.file("notify.sock")) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof address.sun_path) {
      throw std::runtime_error("notify socket: " + path_);
    }
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    const int on = 1;
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
      throw std::runtime_error("notify socket " + path_ + ": " + std::strerror(errno));
    }
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // For the daemon's environment.
  std::string environment() const { return "NOTIFY_SOCKET=" + path_; }

  // Receives notices until `condition(notices())` holds or `timeout` has passed; whether it held.
  template <typename Condition>
  bool receiveUntil(Condition&& condition, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (condition(notices_)) return true;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      receiveOne(left);
    }
  }
  // Receives whatever arrives within `duration`: an observation window with a bound, for
  // asserting that something does not happen.
  void receiveFor(milliseconds duration) {
    receiveUntil([](const std::vector<Notice>&) { return false; }, duration);
  }

  const std::vector<Notice>& notices() const { return notices_; }

 private:
  void receiveOne(milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, timeout.count()))) <= 0) return;
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{text, sizeof text};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &message, MSG_DONTWAIT);
    if (n < 0) return;
    Notice notice;
    notice.text.assign(text, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred credentials;
        std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
        notice.pid = credentials.pid;
      }
    }
    notices_.push_back(std::move(notice));
  }

  std::string path_;
  int fd_ = -1;
  std::vector<Notice> notices_;
};

}  // namespace rivulet::itest
