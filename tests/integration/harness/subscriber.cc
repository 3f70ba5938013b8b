// The tests' ZeroMQ subscriber (subscriber.h).
#include "tests/integration/harness/subscriber.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "tests/support/wait.h"

namespace rivulet::testutil {

Subscriber::Subscriber(const std::string& endpoint, const std::vector<std::string>& prefixes,
                       const CurveClientKeys* curve)
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

Subscriber::~Subscriber() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

::testing::AssertionResult Subscriber::waitConnected(std::chrono::milliseconds timeout) {
  const Handshake h = waitHandshake(timeout);
  if (h == Handshake::kSucceeded) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no ZeroMQ handshake with " << endpoint_
                                       << (h == Handshake::kRefused  ? " (refused)"
                                           : h == Handshake::kFailed ? " (failed)"
                                                                     : "");
}

Handshake Subscriber::waitHandshake(std::chrono::milliseconds timeout) {
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

void Subscriber::take() {
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

bool Subscriber::receiveUntil(const std::function<bool(const std::vector<Message>&)>& done,
                              std::chrono::milliseconds timeout) {
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

void Subscriber::receiveFor(std::chrono::milliseconds period) {
  receiveUntil([](const std::vector<Message>&) { return false; }, period);
}

::testing::AssertionResult waitSubscribed(const Daemon& daemon, Subscriber& subscriber,
                                          std::chrono::milliseconds timeout) {
  if (auto connected = subscriber.waitConnected(timeout); !connected) return connected;
  return daemon.waitMetric("rivulet_subscribers", {}, 1, timeout);
}

}  // namespace rivulet::testutil
