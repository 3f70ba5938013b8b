// A ZeroMQ SUB client for the daemon's result socket, over tcp:// or ipc://.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tests/integration/harness/files.h"

namespace rivulet::itest {

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
                      const CurveClientKeys* curve = nullptr)
      : context_(1),
        socket_(context_, zmq::socket_type::sub),
        monitor_(context_, zmq::socket_type::pair),
        endpoint_(endpoint) {
    static std::atomic<int> ids{0};
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::linger, 0);
    monitor_.set(zmq::sockopt::linger, 0);
    const std::string monitor = "inproc://itest-sub-monitor-" + std::to_string(ids++);
    if (zmq_socket_monitor(socket_.handle(), monitor.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
      throw zmq::error_t();
    if (curve != nullptr) {
      socket_.set(zmq::sockopt::curve_serverkey, curve->server_key);
      socket_.set(zmq::sockopt::curve_publickey, curve->public_key);
      socket_.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    }
    monitor_.connect(monitor);
    for (const std::string& prefix : prefixes) socket_.set(zmq::sockopt::subscribe, prefix);
    socket_.connect(endpoint);
  }
  ~Subscriber() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

  // Waits for the ZeroMQ handshake with the publisher: after it our subscriptions are on the wire
  // ahead of anything the test sends the daemon next.
  ::testing::AssertionResult waitConnected(milliseconds timeout = 20s) {
    const Handshake h = waitHandshake(timeout);
    if (h == Handshake::kSucceeded) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no ZeroMQ handshake with " << endpoint_
                                         << (h == Handshake::kRefused  ? " (refused)"
                                             : h == Handshake::kFailed ? " (failed)"
                                                                       : "");
  }

  // Waits for the first handshake to end, one way or the other.
  Handshake waitHandshake(milliseconds timeout = 20s) {
    zmq::pollitem_t items[] = {{monitor_.handle(), 0, ZMQ_POLLIN, 0}};
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      zmq::poll(items, 1, 20ms);
      zmq::message_t event;
      while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
        std::uint16_t id = 0;
        if (event.size() >= sizeof id) std::memcpy(&id, event.data(), sizeof id);
        for (bool more = event.more(); more;) {  // the second frame: the endpoint
          zmq::message_t frame;
          more = monitor_.recv(frame, zmq::recv_flags::dontwait) && frame.more();
        }
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) return Handshake::kSucceeded;
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return Handshake::kRefused;
        return Handshake::kFailed;
      }
    }
    return Handshake::kTimedOut;
  }

  // Takes every message already queued.
  void take() {
    for (;;) {
      zmq::message_t topic;
      if (!socket_.recv(topic, zmq::recv_flags::dontwait)) return;
      Message m{topic.to_string(), {}};
      if (topic.more()) {
        zmq::message_t payload;
        (void)socket_.recv(payload);  // the rest of a multipart message is already here
        m.payload = payload.to_string();
        while (payload.more()) {  // more frames than the contract's two: keep them visible
          (void)socket_.recv(payload);
          m.payload += "\n<extra frame>" + payload.to_string();
        }
      }
      messages_.push_back(std::move(m));
    }
  }

  // Receives until done(messages()) holds or `timeout` passes; returns whether it held.
  template <typename Done>
  bool receiveUntil(Done&& done, milliseconds timeout) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      take();
      if (done(messages_)) return true;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      zmq::poll(items, 1, std::min<milliseconds>(left, 50ms));
    }
  }

  // Collects whatever arrives within `period` (to see that nothing more comes).
  void receiveFor(milliseconds period) {
    receiveUntil([](const std::vector<Message>&) { return false; }, period);
  }

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

}  // namespace rivulet::itest
