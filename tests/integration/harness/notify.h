// The service manager's end of sd_notify(3), for the tests: an AF_UNIX datagram socket in a temp
// dir that rivuletd gets as NOTIFY_SOCKET. Each datagram is one notice ("READY=1\nSTATUS=..."),
// received with the sender's pid (SO_PASSCRED), which systemd checks for NotifyAccess=main.
// Receiving waits on the socket with poll() up to a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/files.h"

namespace rivulet::testutil {

struct Notice {
  std::string text;
  pid_t pid = 0;  // the sender, from its credentials

  // The value of NAME=value in the notice, if the notice assigns NAME.
  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name, std::string_view value) const { return get(name) == value; }
};

class NotifySocket {
 public:
  explicit NotifySocket(const TempDir& dir);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // For the daemon's environment.
  std::string environment() const { return "NOTIFY_SOCKET=" + path_; }

  // Receives notices until `condition(notices())` holds or `timeout` has passed; whether it held.
  bool receiveUntil(const std::function<bool(const std::vector<Notice>&)>& condition,
                    std::chrono::milliseconds timeout);
  // Receives whatever arrives within `duration`: an observation window with a bound, for
  // asserting that something does not happen.
  void receiveFor(std::chrono::milliseconds duration);

  const std::vector<Notice>& notices() const { return notices_; }

 private:
  void receiveOne(std::chrono::milliseconds timeout);

  std::string path_;
  int fd_ = -1;
  std::vector<Notice> notices_;
};

}  // namespace rivulet::testutil
