// A ZeroMQ SUB client for the daemon's result socket, over tcp:// or ipc://, and the wait until the
// daemon counts it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tests/integration/harness/process.h"

namespace rivulet::testutil {

struct Message {
  std::string topic;
  std::string payload;
  bool has_topic = true;  // false for lines of the `output:` file, which carry the payload only
};

// A CURVE client's keys (Z85 text): its own pair and the server's public key.
struct CurveClientKeys {
  std::string public_key;
  std::string secret_key;
  std::string server_key;
};

// How a ZeroMQ handshake with the publisher ended.
enum class Handshake { kSucceeded, kRefused, kFailed, kTimedOut };

// A SUB socket with its own context, collecting [topic, payload] messages. It has no receive
// limit, so nothing is dropped while the test is busy elsewhere. With `curve` it is a CURVE
// client.
class Subscriber {
 public:
  explicit Subscriber(const std::string& endpoint, const std::vector<std::string>& prefixes = {""},
                      const CurveClientKeys* curve = nullptr);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Waits for the ZeroMQ handshake with the publisher: after it our subscriptions are on the wire
  // ahead of anything the test sends the daemon next.
  ::testing::AssertionResult waitConnected(
      std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Waits for the first handshake to end, one way or the other.
  Handshake waitHandshake(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Takes every message already queued.
  void take();

  // Receives until done(messages()) holds or `timeout` passes; returns whether it held.
  bool receiveUntil(const std::function<bool(const std::vector<Message>&)>& done,
                    std::chrono::milliseconds timeout);

  // Collects whatever arrives within `period` (to see that nothing more comes).
  void receiveFor(std::chrono::milliseconds period);

  const std::vector<Message>& messages() const { return messages_; }
  // Forgets the messages received so far (a long run checks them batch by batch).
  void clear() { messages_.clear(); }
  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
  std::string endpoint_;
  std::vector<Message> messages_;
};

// Waits for the ZeroMQ handshake of `subscriber` with the daemon and then until the daemon counts
// it in rivulet_subscribers: from then on every result the daemon publishes reaches it.
::testing::AssertionResult waitSubscribed(
    const Daemon& daemon, Subscriber& subscriber,
    std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace rivulet::testutil
