// CurveAuthenticator against real sockets: a CURVE server (PULL, bound over tcp://) lets in a
// client whose key is listed and turns away one whose key is not, counting each refusal on the
// handler's thread while the test reads the counter. Runs under ThreadSanitizer in CI (label
// "concurrency").
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <zmq.hpp>

#include "connectors/zmq/curve.h"
#include "tests/support/libzmq_under_tsan.h"

namespace rivulet::connectors {
namespace {

struct Pair {
  Pair() {
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) throw zmq::error_t();
    public_key = pub;
    secret_key = sec;
  }
  std::string public_key;
  std::string secret_key;
};

// The first handshake event of a client socket (ZMQ_EVENT_*), 0 if none within 20 s.
int handshakeOf(zmq::context_t& context, zmq::socket_t& socket, const std::string& name,
                const std::string& endpoint) {
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  const std::string address = "inproc://" + name;
  if (zmq_socket_monitor(socket.handle(), address.c_str(),
                         ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
    return -1;
  }
  monitor.connect(address);
  socket.connect(endpoint);
  zmq::pollitem_t items[] = {{monitor.handle(), 0, ZMQ_POLLIN, 0}};
  int event = 0;
  if (zmq::poll(items, 1, std::chrono::milliseconds(20'000)) > 0) {
    zmq::message_t message;
    if (monitor.recv(message) && message.size() >= 2) {
      std::uint16_t id = 0;
      std::memcpy(&id, message.data(), sizeof id);
      event = id;
    }
  }
  zmq_socket_monitor(socket.handle(), nullptr, 0);
  return event;
}

TEST(CurveConcurrent, ListedClientsGetInOthersAreRefusedAndCounted) {
  const Pair server, allowed, other;
  config::CurveSpec spec;
  spec.secret_key = server.secret_key;
  spec.public_key = server.public_key;
  spec.clients = {allowed.public_key};
  pipeline::Counter refused{0};

  zmq::context_t context(1);
  CurveAuthenticator authenticator(context, spec.clients, refused);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  makeCurveServer(pull, spec);
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  auto client = [&](const Pair& pair) {
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    config::CurveSpec c;
    c.secret_key = pair.secret_key;
    c.public_key = pair.public_key;
    c.server_key = server.public_key;
    makeCurveClient(push, c);
    return push;
  };

  zmq::socket_t refused_push = client(other);
  EXPECT_EQ(handshakeOf(context, refused_push, "m-refused", endpoint),
            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  EXPECT_GE(refused.load(std::memory_order_relaxed), 1u);
  refused_push.close();

  zmq::socket_t allowed_push = client(allowed);
  ASSERT_EQ(handshakeOf(context, allowed_push, "m-allowed", endpoint),
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  allowed_push.send(zmq::str_buffer("hello"));
  zmq::message_t message;
  pull.set(zmq::sockopt::rcvtimeo, 20'000);
  ASSERT_TRUE(pull.recv(message));
  EXPECT_EQ(message.to_string(), "hello");
}

}  // namespace
}  // namespace rivulet::connectors
