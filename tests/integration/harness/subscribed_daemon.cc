// The fixture of the tests of what a running daemon publishes (subscribed_daemon.h).
#include "tests/integration/harness/subscribed_daemon.h"

namespace rivulet::testutil {

void SubscribedDaemonTest::start(const std::string& yaml) {
  daemon_ = std::make_unique<Daemon>(dir_, yaml);
  ASSERT_TRUE(daemon_->waitReady());
  subscriber_ = std::make_unique<Subscriber>(daemon_->publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(*daemon_, *subscriber_));
}

void SubscribedDaemonTest::replayToTheEnd(Fifo& fifo, std::string text) {
  fifo.startWriting(std::move(text));
  ASSERT_TRUE(fifo.finishWriting()) << "could not write the whole input into the FIFO";
  fifo.close();
  const auto exit_code = daemon_->process().wait(std::chrono::seconds(60));
  ASSERT_TRUE(exit_code.has_value()) << "the end of the input did not end the daemon";
  ASSERT_EQ(*exit_code, 0) << daemon_->log();
}

std::size_t SubscribedDaemonTest::received(const std::string& prefix) const {
  std::size_t n = 0;
  for (const Message& m : subscriber_->messages()) n += m.topic.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace rivulet::testutil
