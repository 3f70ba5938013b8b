// ZeroMQ CURVE on the result socket and on zmq sources, with keys made by
// `rivuletd --curve-keypair`: a subscriber or sender whose public key is in the clients
// directory gets in; one with another key is refused (its handshake says so, the daemon counts
// it, nothing of it gets through), and so is one without CURVE. A source that connects checks
// the server's key.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

// A key pair written by rivuletd --curve-keypair, read back.
struct KeyPair {
  std::string prefix;  // PREFIX.secret, PREFIX.public
  std::string public_key;
  std::string secret_key;
};

std::string keyOf(const std::string& file) {
  for (const std::string& line : splitLines(readFile(file))) {
    if (!line.empty() && line[0] != '#') return line;
  }
  return {};
}

KeyPair makeKeyPair(const TempDir& dir, const std::string& prefix) {
  const CommandResult made = runCommand(dir, {kDaemonPath, "--curve-keypair", prefix});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  struct stat st {};
  EXPECT_EQ(::stat((prefix + ".secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret key is private";
  return {prefix, keyOf(prefix + ".public"), keyOf(prefix + ".secret")};
}

// The server's pair, an allowed client (alice) and one not allowed (mallory). Only alice's public
// key is in the clients directory.
struct Keys {
  explicit Keys(const TempDir& dir)
      : server(makeKeyPair(dir, dir.file("server"))),
        alice(makeKeyPair(dir, dir.file("alice"))),
        mallory(makeKeyPair(dir, dir.file("mallory"))),
        clients(dir.file("clients")) {
    std::filesystem::create_directory(clients);
    std::filesystem::copy_file(alice.prefix + ".public", clients + "/alice.public");
  }
  CurveClientKeys client(const KeyPair& pair) const {
    return {pair.public_key, pair.secret_key, server.public_key};
  }
  KeyPair server, alice, mallory;
  std::string clients;
};

// A ZeroMQ socket of the test's with a monitor for how its handshakes end.
class MonitoredSocket {
 public:
  MonitoredSocket(zmq::socket_type type, const CurveClientKeys* curve)
      : context_(1), socket_(context_, type), monitor_(context_, zmq::socket_type::pair) {
    static int ids = 0;
    socket_.set(zmq::sockopt::linger, 0);
    const std::string monitor = "inproc://curve-test-monitor-" + std::to_string(ids++);
    if (zmq_socket_monitor(socket_.handle(), monitor.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
      throw zmq::error_t();
    }
    monitor_.connect(monitor);
    if (curve != nullptr) {
      socket_.set(zmq::sockopt::curve_serverkey, curve->server_key);
      socket_.set(zmq::sockopt::curve_publickey, curve->public_key);
      socket_.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    }
  }
  ~MonitoredSocket() { zmq_socket_monitor(socket_.handle(), nullptr, 0); }

  zmq::socket_t& socket() { return socket_; }

  // The first handshake event (ZMQ_EVENT_*), 0 if none came in `timeout`.
  int handshake(milliseconds timeout = 20s) {
    zmq::pollitem_t items[] = {{monitor_.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, 1, timeout) <= 0) return 0;
    zmq::message_t event;
    if (!monitor_.recv(event)) return 0;
    std::uint16_t id = 0;
    if (event.size() >= sizeof id) std::memcpy(&id, event.data(), sizeof id);
    zmq::message_t endpoint;
    if (event.more()) (void)monitor_.recv(endpoint);
    return id;
  }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  zmq::socket_t monitor_;
};

std::string generatorConfig(const Keys& keys) {
  return daemonYaml({.publish = "tcp://127.0.0.1:0",
                     .stages = 1,
                     .more = "  publish_curve:\n    secret_key: " + keys.server.prefix +
                             ".secret\n    clients: " + keys.clients + "\n"}) +
         "sources:\n"
         "  gen:\n"
         "    kind: generator\n"
         "    keys: 3\n"
         "    events_per_second: 3000\n"
         "pipelines:\n"
         "  per_key:\n"
         "    from: gen\n"
         "    group_by: [key]\n"
         "    window: {tumbling: 100ms}\n"
         "    aggregates: {n: count()}\n";
}

TEST(DaemonCurve, ResultsReachOnlyTheSubscribersWhoseKeysAreListed) {
  TempDir dir;
  const Keys keys(dir);
  Daemon daemon(dir, generatorConfig(keys));
  ASSERT_TRUE(daemon.waitReady());
  const std::string endpoint = daemon.publishEndpoint("tcp://");
  EXPECT_NE(daemon.log().find("server public key " + keys.server.public_key), std::string::npos)
      << daemon.log();

  const CurveClientKeys alice_keys = keys.client(keys.alice);
  const CurveClientKeys mallory_keys = keys.client(keys.mallory);
  Subscriber mallory(endpoint, {""}, &mallory_keys);
  EXPECT_EQ(mallory.waitHandshake(), Handshake::kRefused);
  Subscriber plain(endpoint);
  EXPECT_EQ(plain.waitHandshake(), Handshake::kFailed);
  std::string error;
  const auto refused = daemon.scrapeUntil(
      [](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_subscribers_refused_total") >= 1;
      },
      20s, &error);
  ASSERT_TRUE(refused) << error;
  // ZeroMQ retries a refused handshake (every reconnect interval): the count may have grown.
  EXPECT_GE(refused->valueOr0("rivulet_subscribers_refused_total"), 1);

  Subscriber alice(endpoint, {""}, &alice_keys);
  ASSERT_EQ(alice.waitHandshake(), Handshake::kSucceeded);
  // Results published well after the others were turned away.
  ASSERT_TRUE(
      alice.receiveUntil([](const auto& received) { return countResults(received) >= 30; }, 30s));
  mallory.take();
  plain.take();
  EXPECT_TRUE(mallory.messages().empty());
  EXPECT_TRUE(plain.messages().empty());
  for (const Result& r : parseResults(alice.messages())) EXPECT_EQ(r.pipeline, "per_key");

  // rivulet-sub with the allowed key prints results; with another key it says it was refused.
  const CommandResult ok =
      runCommand(dir, {kDaemonPath.substr(0, kDaemonPath.rfind('/')) + "/rivulet-sub", "--count",
                       "5", "--curve-key", keys.alice.prefix + ".secret", "--curve-server-key",
                       keys.server.prefix + ".public", endpoint, "per_key/"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(splitLines(ok.out).size(), 5u) << ok.out;
  const CommandResult no =
      runCommand(dir, {kDaemonPath.substr(0, kDaemonPath.rfind('/')) + "/rivulet-sub",
                       "--curve-key", keys.mallory.prefix + ".secret", "--curve-server-key",
                       keys.server.prefix + ".public", endpoint});
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_NE(no.err.find("refused this subscriber's key"), std::string::npos) << no.err;
  EXPECT_TRUE(no.out.empty());
}

// Counts per key `k` of source `in`, in 1 s windows.
const char* const kPerKeyFromIn =
    "pipelines:\n"
    "  per_key:\n"
    "    from: in\n"
    "    group_by: [k]\n"
    "    window: {tumbling: 1s}\n"
    "    aggregates: {n: count()}\n";

std::string boundSourceConfig(const Keys& keys) {
  return daemonYaml({.publish = "tcp://127.0.0.1:0", .stages = 1}) +
         "sources:\n"
         "  in:\n"
         "    kind: zmq\n"
         "    socket: pull\n"
         "    bind: tcp://127.0.0.1:0\n"
         "    time: {field: ts, unit: ms}\n"
         "    curve:\n"
         "      secret_key: " +
         keys.server.prefix +
         ".secret\n"
         "      clients: " +
         keys.clients + "\n" + kPerKeyFromIn;
}

std::string event(std::int64_t ts, const std::string& key) {
  return R"({"ts":)" + std::to_string(ts) + R"(,"k":")" + key + R"("})";
}

TEST(DaemonCurve, ABoundZmqSourceTakesEventsOnlyFromListedClients) {
  TempDir dir;
  const Keys keys(dir);
  Daemon daemon(dir, boundSourceConfig(keys));
  ASSERT_TRUE(daemon.waitReady());
  EXPECT_NE(daemon.log().find("with CURVE"), std::string::npos) << daemon.log();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(daemon.sourcePort("in"));
  Subscriber results(daemon.publishEndpoint("tcp://"));
  ASSERT_TRUE(results.waitConnected());

  // Mallory connects first and is turned away: what she sends has nowhere to go.
  const CurveClientKeys mallory_keys = keys.client(keys.mallory);
  MonitoredSocket mallory(zmq::socket_type::push, &mallory_keys);
  mallory.socket().connect(endpoint);
  EXPECT_EQ(mallory.handshake(), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  for (int i = 0; i < 10; ++i) {
    (void)mallory.socket().send(zmq::buffer(event(kFeedBase, "mallory")),
                                zmq::send_flags::dontwait);
  }

  // Alice's events are taken: 7 in the first second, then one a second later closes it.
  const CurveClientKeys alice_keys = keys.client(keys.alice);
  MonitoredSocket alice(zmq::socket_type::push, &alice_keys);
  alice.socket().connect(endpoint);
  ASSERT_EQ(alice.handshake(), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  for (int i = 0; i < 7; ++i) alice.socket().send(zmq::buffer(event(kFeedBase + i, "alice")));
  alice.socket().send(zmq::buffer(event(kFeedBase + 2'000, "alice")));

  ASSERT_TRUE(
      results.receiveUntil([](const auto& received) { return countResults(received) >= 1; }, 30s));
  const std::vector<Result> got = parseResults(results.messages());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, (std::vector<std::pair<std::string, std::string>>{{"k", "alice"}}));
  EXPECT_EQ(got[0].values.at("n").integer, 7);

  Metrics m;
  ASSERT_TRUE(daemon.waitMetric("rivulet_source_connections_refused_total", {{"source", "in"}}, 1,
                                20s, &m));
  EXPECT_GE(m.valueOr0("rivulet_source_connections_refused_total", {{"source", "in"}}), 1);
  EXPECT_EQ(m.valueOr0("rivulet_source_events_total", {{"source", "in"}}), 8);
}

TEST(DaemonCurve, AConnectingZmqSourceChecksTheServerKey) {
  TempDir dir;
  const Keys keys(dir);
  // The test's publisher is the CURVE server; its context has no ZAP handler, so ZeroMQ lets in
  // any client that knows the server's public key.
  MonitoredSocket publisher(zmq::socket_type::xpub, nullptr);
  publisher.socket().set(zmq::sockopt::curve_server, 1);
  publisher.socket().set(zmq::sockopt::curve_secretkey, keys.server.secret_key);
  publisher.socket().set(zmq::sockopt::sndhwm, 0);
  publisher.socket().set(zmq::sockopt::rcvtimeo, 30'000);
  publisher.socket().bind("tcp://127.0.0.1:*");
  const std::string endpoint = publisher.socket().get(zmq::sockopt::last_endpoint);

  auto config = [&](const std::string& server_key_file) {
    return daemonYaml({.publish = "tcp://127.0.0.1:0", .stages = 1}) +
           "sources:\n"
           "  in:\n"
           "    kind: zmq\n"
           "    socket: sub\n"
           "    connect: " +
           endpoint +
           "\n"
           "    time: {field: ts, unit: ms}\n"
           "    curve:\n"
           "      secret_key: " +
           keys.alice.prefix +
           ".secret\n"
           "      server_key: " +
           server_key_file + "\n" + kPerKeyFromIn;
  };

  {
    // The wrong server key: the server cannot read the client's hello.
    TempDir wrong_dir;
    Daemon wrong(wrong_dir, config(keys.mallory.prefix + ".public"));
    ASSERT_TRUE(wrong.waitReady());
    EXPECT_EQ(publisher.handshake(), ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  }

  Daemon daemon(dir, config(keys.server.prefix + ".public"));
  ASSERT_TRUE(daemon.waitReady());
  // Subscribed well before the result goes out (the daemon takes subscriptions in between).
  Subscriber results(daemon.publishEndpoint("tcp://"));
  ASSERT_TRUE(results.waitConnected());
  int handshake = 0;
  // Events of the first daemon's retries may come first.
  for (int i = 0; i < 20 && handshake != ZMQ_EVENT_HANDSHAKE_SUCCEEDED; ++i) {
    handshake = publisher.handshake();
  }
  ASSERT_EQ(handshake, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  zmq::message_t subscription;
  ASSERT_TRUE(publisher.socket().recv(subscription)) << "no subscription from the daemon";
  for (int i = 0; i < 4; ++i) publisher.socket().send(zmq::buffer(event(kFeedBase + i, "a")));
  publisher.socket().send(zmq::buffer(event(kFeedBase + 2'000, "a")));
  std::string error;
  ASSERT_TRUE(
      results.receiveUntil([](const auto& received) { return countResults(received) >= 1; }, 30s))
      << "events taken: "
      << daemon.scrapeUntil([](const Metrics&) { return true; }, 1s, &error)
             ->valueOr0("rivulet_source_events_total", {{"source", "in"}});
  const std::vector<Result> got = parseResults(results.messages());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].values.at("n").integer, 4);
}

}  // namespace
}  // namespace rivulet::testutil
