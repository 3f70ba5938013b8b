// TcpSource against real loopback clients: many at once, one sending garbage and vanishing
// mid-line, one sending an over-long line. Each bad client costs only its own lines, and
// max_connections is enforced. Runs under ThreadSanitizer in CI (label "concurrency").
#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <map>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "connectors/sources/tcp_source.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"
#include "tests/support/sockets.h"
#include "tests/support/source_thread.h"

namespace rivulet::connectors {
namespace {

using pipeline::ErrorReason;
using pipeline::RecordType;
using testutil::kMs;
using testutil::Record;
using testutil::RingSet;

constexpr std::int64_t kT0 = 1'700'000'000'000;  // ms

// A blocking loopback client.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 &&
                 ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) { return testutil::sendAll(fd_, data); }

  // Sends `data` in pieces of random size, so lines are cut anywhere.
  bool sendInPieces(std::string_view data, std::mt19937_64& rng, std::size_t max_piece) {
    std::uniform_int_distribution<std::size_t> piece(1, max_piece);
    while (!data.empty()) {
      const std::size_t n = std::min(piece(rng), data.size());
      if (!send(data.substr(0, n))) return false;
      data.remove_prefix(n);
    }
    return true;
  }

  // True once the server has closed the connection (EOF or reset), false at the deadline.
  bool waitClosedByServer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char byte;
      const ssize_t n = ::recv(fd_, &byte, 1, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string event(std::int64_t ms, const std::string& client, std::int64_t n) {
  return R"({"ts":)" + std::to_string(ms) + R"(,"c":")" + client + R"(","n":)" + std::to_string(n) +
         "}\n";
}

config::Config tcpConfig(std::int64_t max_line, std::int64_t max_connections) {
  config::Config config;
  config::SourceConfig source;
  source.name = "clients";
  source.kind = config::SourceKind::kTcp;
  source.tcp.listen = config::Endpoint{"127.0.0.1", 0};
  source.tcp.max_line = max_line;
  source.tcp.max_connections = max_connections;
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  config.sources.push_back(source);
  config.pipelines.push_back(
      testutil::pipelineConfig("n_by_client", "clients", {"c"},
                               {testutil::aggregate("n", config::AggregateKind::kSum, "n")}));
  return config;
}

// A TcpSource running on its own thread; the test thread is the rings' consumer.
class RunningSource : public testutil::SourceThread<TcpSource> {
 public:
  RunningSource(const config::Config& config, std::size_t stages) : SourceThread(config, stages) {}

  std::uint16_t port() { return source().port(); }

  // The n values received per client key, in arrival order.
  std::map<std::string, std::vector<std::int64_t>> byClient() {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const Record& r : rings().events(0)) {
      out[testutil::keyParts(r.key(1)).at(0).second].push_back(
          static_cast<std::int64_t>(r.value(0)));
    }
    return out;
  }
};

TEST(TcpSourceConcurrent, ManyClientsAtOnceAndBadOnesCostOnlyTheirOwnLines) {
  const int good_clients = 4;
  const int lines = 1200 / RIVULET_TEST_SLOWDOWN;
  const config::Config config = tcpConfig(1024, 8);
  RunningSource source(config, 2);
  ASSERT_NE(source.port(), 0);

  std::latch start(good_clients + 2);
  std::vector<std::jthread> clients;
  std::atomic<std::uint64_t> bytes_sent{0};
  for (int c = 0; c < good_clients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(c) + 1);
      std::string text;
      for (int n = 0; n < lines; ++n)
        text += event(kT0 + c * 100'000 + n, "c" + std::to_string(c), n);
      bytes_sent += text.size();
      start.arrive_and_wait();
      Client client(source.port());
      ASSERT_TRUE(client.connected());
      EXPECT_TRUE(client.sendInPieces(text, rng, 300));
    });
  }
  clients.emplace_back([&] {  // one good line, one garbage line, then gone in mid-line
    start.arrive_and_wait();
    Client client(source.port());
    ASSERT_TRUE(client.connected());
    const std::string text = event(kT0, "garbage", 7) + "%%% not json %%%\n" + R"({"ts":)" +
                             std::to_string(kT0) + R"(,"c)";
    bytes_sent += text.size();
    EXPECT_TRUE(client.send(text));
  });
  clients.emplace_back([&] {  // an over-long line in small pieces, then a good one
    std::mt19937_64 rng(99);
    start.arrive_and_wait();
    Client client(source.port());
    ASSERT_TRUE(client.connected());
    const std::string text = std::string(5000, 'x') + "\n" + event(kT0, "long", 11);
    bytes_sent += text.size();
    EXPECT_TRUE(client.sendInPieces(text, rng, 100));
  });
  clients.clear();  // joins: every byte is sent, the connections closed

  const pipeline::SourceStats& stats = source.stats();
  const std::size_t expected_events = good_clients * lines + 2;
  EXPECT_TRUE(source.rings().drainUntil([&] {
    return source.rings().count(RecordType::kEvent) == expected_events &&
           testutil::errors(stats, ErrorReason::kInvalidJson) == 2 &&
           testutil::errors(stats, ErrorReason::kLineTooLong) == 1 && stats.connections.load() == 0;
  })) << "events "
      << source.rings().count(RecordType::kEvent) << " of " << expected_events << ", "
      << stats.connections.load() << " clients connected";
  source.stop();

  // Every byte sent was read, bad lines and all.
  EXPECT_EQ(stats.bytes.load(), bytes_sent.load());

  EXPECT_EQ(stats.events.load(), expected_events);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kInvalidJson), 2u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kLineTooLong), 1u);
  EXPECT_EQ(testutil::totalErrors(stats), 3u);

  // Each client's lines arrive whole, once, and in the order sent (one key: one ring, FIFO).
  const auto got = source.byClient();
  EXPECT_EQ(got.size(), static_cast<std::size_t>(good_clients + 2));
  for (int c = 0; c < good_clients; ++c) {
    const auto it = got.find("c" + std::to_string(c));
    ASSERT_NE(it, got.end()) << c;
    std::vector<std::int64_t> expected(static_cast<std::size_t>(lines));
    for (int n = 0; n < lines; ++n) expected[static_cast<std::size_t>(n)] = n;
    EXPECT_EQ(it->second, expected) << "client " << c;
  }
  EXPECT_EQ(got.at("garbage"), std::vector<std::int64_t>{7});
  EXPECT_EQ(got.at("long"), std::vector<std::int64_t>{11});
  for (const Record& r : source.rings().events(0)) {
    const std::string key = testutil::keyParts(r.key(1)).at(0).second;
    if (key[0] != 'c') continue;
    const std::int64_t c = key[1] - '0';
    EXPECT_EQ(r.header.time, (kT0 + c * 100'000 + static_cast<std::int64_t>(r.value(0))) * kMs);
  }
  testutil::expectOneEndPerRing(source.rings(), pipeline::kEndStopped);
}

TEST(TcpSourceConcurrent, MaxConnectionsRefusesTheExtraClient) {
  const config::Config config = tcpConfig(1024, 2);
  RunningSource source(config, 1);
  RingSet& rings = source.rings();
  auto eventsOf = [&](const std::string& client) {
    rings.drain();
    const auto got = source.byClient();
    const auto it = got.find(client);
    return it == got.end() ? std::size_t{0} : it->second.size();
  };

  Client c1(source.port());
  Client c2(source.port());
  ASSERT_TRUE(c1.connected() && c2.connected());
  ASSERT_TRUE(c1.send(event(kT0, "c1", 1)));
  ASSERT_TRUE(c2.send(event(kT0, "c2", 1)));
  // Both are served: the server holds two connections.
  ASSERT_TRUE(rings.drainUntil([&] { return eventsOf("c1") == 1 && eventsOf("c2") == 1; }));
  EXPECT_EQ(source.stats().connections.load(), 2);

  Client c3(source.port());      // the kernel completes the handshake; the server then closes it
  c3.send(event(kT0, "c3", 1));  // may fail once the server has closed: either way, not counted
  EXPECT_TRUE(c3.waitClosedByServer(std::chrono::milliseconds(10'000)));
  EXPECT_EQ(source.stats().connections_refused.load(), 1u);
  EXPECT_EQ(source.stats().connections.load(), 2) << "a refused client is not connected";

  // The others are unaffected.
  ASSERT_TRUE(c1.send(event(kT0 + 1, "c1", 2)));
  EXPECT_TRUE(rings.drainUntil([&] { return eventsOf("c1") == 2; }));

  // When one leaves, its slot is free again. Its last line has no newline: that it arrives
  // shows the server has seen the close.
  ASSERT_TRUE(c1.send(R"({"ts":)" + std::to_string(kT0 + 2) + R"(,"c":"c1","n":3})"));
  c1.close();
  EXPECT_TRUE(rings.drainUntil([&] { return eventsOf("c1") == 3; }));
  EXPECT_EQ(source.stats().connections.load(), 1);
  Client c4(source.port());
  ASSERT_TRUE(c4.connected());
  ASSERT_TRUE(c4.send(event(kT0, "c4", 1)));
  EXPECT_TRUE(rings.drainUntil([&] { return eventsOf("c4") == 1; }));
  EXPECT_EQ(source.stats().connections.load(), 2);

  source.stop();
  EXPECT_EQ(eventsOf("c3"), 0u);
  EXPECT_EQ(source.stats().events.load(), 5u);
  EXPECT_EQ(testutil::totalErrors(source.stats()), 0u);
  testutil::expectOneEndPerRing(rings, pipeline::kEndStopped);
}

TEST(TcpSourceConcurrent, StopWithoutClientsEndsTheStream) {
  const config::Config config = tcpConfig(1024, 4);
  RunningSource source(config, 3);
  EXPECT_NE(source.port(), 0);
  source.stop();
  testutil::expectOneEndPerRing(source.rings(), pipeline::kEndStopped);
  EXPECT_EQ(source.rings().count(RecordType::kEvent), 0u);
}

TEST(TcpSourceConcurrent, PortInUseFailsAtStart) {
  const config::Config config = tcpConfig(1024, 4);
  RunningSource first(config, 1);
  config::Config same = config;
  same.sources[0].tcp.listen.port = first.port();
  pipeline::SourceStats stats;
  RingSet rings(1, 64);
  try {
    TcpSource second(same.sources[0],
                     pipeline::EventRouter(testutil::planFor(same), rings.pointers(), stats));
    FAIL() << "a second listener on port " << first.port() << " was allowed";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("clients"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(first.port())), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rivulet::connectors
