// The fixture of the tests of what a running daemon publishes (subscribed_daemon.h).
#include "tests/integration/harness/subscribed_daemon.h"

namespace rivulet::testutil {

void SubscribedDaemonTest::start(const std::string& yaml) {
  daemon_ = std::make_unique<Daemon>(dir_, yaml);
  ASSERT_TRUE(daemon_->waitReady());
  subscriber_ = std::make_unique<Subscriber>(daemon_->publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(*daemon_, *subscriber_));
}

}  // namespace rivulet::testutil
