// UdpSource against a real loopback socket: one event per datagram, JSON and CSV, malformed and
// truncated datagrams counted by reason, overflow: drop with a stage that reads nothing, the
// kernel's own drops counted (SO_RXQ_OVFL), a port in use, a stop without traffic. Datagrams are
// sent in small rounds, each waited for, so the socket buffer never overflows where a test does
// not want it to. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "connectors/sources/udp_source.h"
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

constexpr std::int64_t kT0 = 1'700'000'000'000;  // ms

config::Config udpConfig(config::Format format, std::int64_t max_datagram = 256,
                         config::Overflow overflow = config::Overflow::kBlock) {
  config::Config config;
  config::SourceConfig source;
  source.name = "packets";
  source.kind = config::SourceKind::kUdp;
  source.udp.listen = config::Endpoint{"127.0.0.1", 0};
  source.udp.max_datagram = max_datagram;
  source.overflow = overflow;
  source.format = format;
  if (format == config::Format::kCsv) source.csv.columns = {"ts", "c", "n"};
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  config.sources.push_back(source);
  config.pipelines.push_back(testutil::pipelineConfig(
      "n_by_c", "packets", {"c"}, {testutil::aggregate("n", config::AggregateKind::kSum, "n")}));
  return config;
}

using RunningUdp = testutil::SourceThread<UdpSource>;

// Everything the source counted: events, errors, drops at the ring and in the kernel.
std::uint64_t counted(const pipeline::SourceStats& stats) {
  return stats.events.load() + testutil::totalErrors(stats) + stats.dropped.load() +
         stats.socket_drops.load();
}

// Sends each datagram, in rounds of 16 each waited for until the source has counted it.
::testing::AssertionResult sendCounted(RunningUdp& udp, const std::vector<std::string>& datagrams) {
  testutil::UdpSender sender(udp.source().port());
  const std::uint64_t before = counted(udp.stats());
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    if (!sender.send(datagrams[i])) return ::testing::AssertionFailure() << "sendto failed";
    if (i % 16 == 15 || i + 1 == datagrams.size()) {
      const std::uint64_t want = before + i + 1;
      if (!udp.rings().drainUntil([&] { return counted(udp.stats()) >= want; })) {
        return ::testing::AssertionFailure()
               << "counted " << counted(udp.stats()) - before << " of " << i + 1;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

std::string json(std::int64_t ms, const std::string& c, std::int64_t n) {
  return R"({"ts":)" + std::to_string(ms) + R"(,"c":")" + c + R"(","n":)" + std::to_string(n) + "}";
}

TEST(UdpSourceConcurrent, JsonDatagramsAreEventsAndBadOnesAreCountedByReason) {
  RunningUdp udp(udpConfig(config::Format::kJson), 2);
  ASSERT_NE(udp.source().port(), 0);
  EXPECT_EQ(udp.source().where(), "listening on 127.0.0.1:" + std::to_string(udp.source().port()));
  const int n = 400 / RIVULET_TEST_SLOWDOWN;
  std::vector<std::string> datagrams;
  for (int i = 0; i < n; ++i) {
    datagrams.push_back(json(kT0 + i, "c" + std::to_string(i % 3), i) + (i % 5 == 0 ? "\n" : ""));
  }
  datagrams.push_back("not json");
  datagrams.push_back("[1,2]");
  datagrams.push_back("");  // an empty datagram is no JSON value either
  datagrams.push_back(json(kT0, "a", 1) + json(kT0, "b", 2));  // two events: one datagram is one
  // max_datagram (256) bytes are an event; one more is cut by the kernel, counted, not parsed.
  const auto sized = [](std::size_t size) {
    const std::string head = R"({"ts":1,"c":"x","n":1,"pad":")";
    return head + std::string(size - head.size() - 2, 'p') + "\"}";
  };
  datagrams.push_back(sized(256));
  datagrams.push_back(sized(257));
  datagrams.push_back(sized(1000));
  ASSERT_TRUE(sendCounted(udp, datagrams));
  udp.stop();

  const pipeline::SourceStats& stats = udp.stats();
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kInvalidJson), 3u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kNotObject), 1u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kTruncated), 2u);
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n) + 1);  // with the 256-byte one
  EXPECT_EQ(stats.dropped.load(), 0u);
  EXPECT_EQ(stats.socket_drops.load(), 0u);
  // Bytes read: every datagram's, a truncated one's as far as it was read (max_datagram).
  std::uint64_t bytes = 0;
  for (const std::string& d : datagrams) bytes += std::min<std::size_t>(d.size(), 256);
  EXPECT_EQ(stats.bytes.load(), bytes);
  // Each client's events once, in order, with their time.
  std::map<std::string, std::vector<double>> by_c;
  for (const testutil::Record& r : udp.rings().events(0)) {
    const std::string c = testutil::keyParts(r.key(1)).at(0).second;
    by_c[c].push_back(r.value(0));
    if (c[0] == 'c') {
      EXPECT_EQ(r.header.time, (kT0 + static_cast<std::int64_t>(r.value(0))) * kMs);
    }
  }
  for (int c = 0; c < 3; ++c) {
    std::vector<double> want;
    for (int i = c; i < n; i += 3) want.push_back(i);
    EXPECT_EQ(by_c["c" + std::to_string(c)], want) << c;
  }
  testutil::expectOneEndPerRing(udp.rings(), pipeline::kEndStopped);
}

TEST(UdpSourceConcurrent, CsvDatagramIsOneRowWithoutItsLineBreak) {
  RunningUdp udp(udpConfig(config::Format::kCsv), 1);
  ASSERT_TRUE(sendCounted(udp, {std::to_string(kT0) + ",a,1", std::to_string(kT0 + 1) + ",b,2\n",
                                std::to_string(kT0 + 2) + ",\"c\nc\",3\r\n", "1,a", "1,a\"b,3"}));
  udp.stop();
  const pipeline::SourceStats& stats = udp.stats();
  EXPECT_EQ(stats.events.load(), 3u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kWrongColumnCount), 1u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kInvalidCsv), 1u);
  std::vector<std::string> keys;
  for (const testutil::Record& r : udp.rings().events(0))
    keys.push_back(testutil::keyParts(r.key(1)).at(0).second);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c\nc"}));
}

// overflow: drop, with a stage that reads nothing: the ring fills and later events are dropped
// and counted; the source keeps reading datagrams meanwhile.
TEST(UdpSourceConcurrent, DropPolicyDropsAtAFullRingAndCounts) {
  testutil::SourceThread<UdpSource> udp(
      udpConfig(config::Format::kJson, 256, config::Overflow::kDrop), 1, true, 256);
  testutil::UdpSender sender(udp.source().port());
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(sender.send(json(kT0 + i, "k", i)));
    // One at a time: the socket buffer never fills, so every loss is the ring's.
    const auto want = static_cast<std::uint64_t>(i + 1);
    const auto deadline = std::chrono::steady_clock::now() + testutil::kDeadline;
    while (udp.stats().dropped.load() + udp.stats().events.load() < want) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "datagram " << i << " not counted";
      std::this_thread::yield();
    }
  }
  const std::uint64_t events = udp.stats().events.load();
  EXPECT_GT(udp.stats().dropped.load(), 0u);
  EXPECT_EQ(udp.stats().dropped.load() + events, static_cast<std::uint64_t>(n));
  EXPECT_EQ(udp.stats().socket_drops.load(), 0u);
  udp.stop();  // the stage reads now: the end of the stream arrives after what was taken
  EXPECT_EQ(udp.rings().count(RecordType::kEvent), events);
  // The ones taken are the first ones, in order.
  const std::vector<testutil::Record> got = udp.rings().events(0);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value(0), static_cast<double>(i));
}

// Datagrams sent while the source is not reading overflow a small socket buffer; the kernel's
// count of them arrives with the next datagram queued and is added to socket_drops, so that
// every datagram sent is accounted for.
TEST(UdpSourceConcurrent, KernelDropsAreCountedFromTheNextDatagram) {
  config::Config config = udpConfig(config::Format::kJson);
  config.sources[0].udp.rcvbuf = 4096;
  RunningUdp udp(config, 1, /*start=*/false);
  const int n = 300;
  {
    testutil::UdpSender sender(udp.source().port());
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sender.send(json(kT0 + i, "k", i)));
  }
  udp.start();
  // The source reads what the buffer held; then one more, which carries the drop count.
  ASSERT_TRUE(udp.rings().drainUntil([&] { return udp.stats().events.load() > 0; }));
  ASSERT_TRUE(sendCounted(udp, {json(kT0 + n, "k", n)}));
  ASSERT_TRUE(udp.rings().drainUntil([&] { return counted(udp.stats()) == n + 1; }))
      << "events " << udp.stats().events.load() << " socket drops "
      << udp.stats().socket_drops.load();
  EXPECT_GT(udp.stats().socket_drops.load(), 0u);
  EXPECT_EQ(testutil::totalErrors(udp.stats()), 0u);
  udp.stop();
}

TEST(UdpSourceConcurrent, RcvbufBeyondTheLimitIsAWarning) {
  config::Config config = udpConfig(config::Format::kJson);
  config.sources[0].udp.rcvbuf = std::numeric_limits<int>::max() / 2;
  RunningUdp udp(config, 1, /*start=*/false);
  // With CAP_NET_ADMIN (root) the kernel grants it; otherwise net.core.rmem_max caps it.
  if (geteuid() == 0) {
    EXPECT_TRUE(udp.source().warnings().empty()) << udp.source().warnings()[0];
  } else {
    ASSERT_EQ(udp.source().warnings().size(), 1u);
    EXPECT_NE(udp.source().warnings()[0].find("rcvbuf 1073741823 bytes asked"), std::string::npos)
        << udp.source().warnings()[0];
  }
  udp.start();
  udp.stop();
}

TEST(UdpSourceConcurrent, PortInUseFailsAtStartNamingTheSource) {
  RunningUdp first(udpConfig(config::Format::kJson), 1);
  config::Config same = udpConfig(config::Format::kJson);
  same.sources[0].udp.listen.port = first.source().port();
  pipeline::SourceStats stats;
  testutil::RingSet rings(1, 64);
  try {
    UdpSource second(same.sources[0],
                     pipeline::EventRouter(testutil::planFor(same), rings.pointers(), stats));
    FAIL() << "a second socket on port " << first.source().port() << " was allowed";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("source packets"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(first.source().port())), std::string::npos) << what;
  }
}

TEST(UdpSourceConcurrent, StopWithoutTrafficEndsTheStream) {
  RunningUdp udp(udpConfig(config::Format::kJson), 3);
  udp.stop();
  testutil::expectOneEndPerRing(udp.rings(), pipeline::kEndStopped);
  EXPECT_EQ(udp.rings().count(RecordType::kEvent), 0u);
}

}  // namespace
}  // namespace rivulet::connectors
