// ServiceNotifier against a NOTIFY_SOCKET this test binds: each notice is one datagram with the
// state first; without NOTIFY_SOCKET nothing is sent; WATCHDOG_USEC/WATCHDOG_PID are read as
// sd_watchdog_enabled(3) says.
#include "daemon/service/notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace rivulet::daemon {
namespace {

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (std::filesystem::temp_directory_path() / "rivulet-notify-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    path_ = dir_ + "/notify.sock";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  void TearDown() override {
    close(fd_);
    std::filesystem::remove_all(dir_);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }

  // The next datagram, or "" if none comes within `timeout_ms`.
  std::string receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return "";
    char text[4096];
    const ssize_t n = recv(fd_, text, sizeof text, 0);
    return n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "";
  }

  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(NotifyTest, SendsEachNoticeAsOneDatagramStateFirst) {
  setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  ServiceNotifier notifier;
  EXPECT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdogNanos(), 0);

  notifier.ready("running: 1 pipeline, 2 stages");
  EXPECT_EQ(receive(), "READY=1\nSTATUS=running: 1 pipeline, 2 stages");
  notifier.status("line one\nline two");
  EXPECT_EQ(receive(), "STATUS=line one line two");
  notifier.reloading("reloading");
  const std::string reloading = receive();
  EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
  EXPECT_NE(reloading.find("\nSTATUS=reloading"), std::string::npos) << reloading;
  notifier.watchdog();
  EXPECT_EQ(receive(), "WATCHDOG=1");
  notifier.stopping("stopping: draining");
  EXPECT_EQ(receive(), "STOPPING=1\nSTATUS=stopping: draining");
}

TEST_F(NotifyTest, WithoutNotifySocketSendsNothing) {
  ServiceNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  notifier.ready("running");
  notifier.watchdog();
  EXPECT_EQ(receive(200), "");
}

TEST_F(NotifyTest, WatchdogIntervalIsOursOnlyWhenThePidMatches) {
  setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  setenv("WATCHDOG_USEC", "1500000", 1);
  EXPECT_EQ(ServiceNotifier().watchdogNanos(), 1'500'000'000);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(ServiceNotifier().watchdogNanos(), 1'500'000'000);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(ServiceNotifier().watchdogNanos(), 0);
}

}  // namespace
}  // namespace rivulet::daemon
