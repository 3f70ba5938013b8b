// The fixture of the tests of what a running daemon publishes: rivuletd started on a config,
// ready, and a subscriber to everything it publishes on ipc:// that it counts.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/integration/harness/fifo.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/subscriber.h"
#include "tests/support/files.h"

namespace rivulet::testutil {

class SubscribedDaemonTest : public ::testing::Test {
 protected:
  // Starts rivuletd on `yaml` in dir_ and waits until it is ready and counts subscriber_. It
  // fails fatally: call it as ASSERT_NO_FATAL_FAILURE(start(yaml)).
  void start(const std::string& yaml);
  // Writes `text` into `fifo`, which the daemon reads as a file source, closes it and waits for
  // the daemon to exit 0 at the end of its input. Fails fatally.
  void replayToTheEnd(Fifo& fifo, std::string text);
  // How many messages the subscriber has whose topic starts with `prefix`.
  std::size_t received(const std::string& prefix) const;

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Subscriber> subscriber_;
};

// The daemon on `kConfig(dir_)`, which follows dir_/in.jsonl: empty at the start, for the test
// to write to.
template <std::string (*kConfig)(const TempDir&)>
class FollowingDaemonTest : public SubscribedDaemonTest {
 protected:
  void SetUp() override {
    writeFile(dir_.file("in.jsonl"), "");
    ASSERT_NO_FATAL_FAILURE(start(kConfig(dir_)));
  }
};

}  // namespace rivulet::testutil
