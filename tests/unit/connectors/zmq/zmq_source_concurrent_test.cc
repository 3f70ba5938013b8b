// ZmqSource against real sockets: PUSH -> a bound PULL over ipc:// (one-frame and multipart
// messages, malformed and over-long ones), XPUB -> a connecting SUB over tcp:// whose
// subscriptions filter by topic, overflow: drop with a stage that reads nothing, bind and
// endpoint errors at start-up, a stop without traffic. Runs under ThreadSanitizer in CI (label
// "concurrency").
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "connectors/zmq/zmq_source.h"
#include "tests/support/libzmq_under_tsan.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"
#include "tests/support/source_thread.h"
#include "tests/support/zmq_subscriptions.h"

namespace rivulet::connectors {
namespace {

using pipeline::ErrorReason;
using pipeline::RecordType;
using testutil::kMs;

constexpr std::int64_t kT0 = 1'700'000'000'000;  // ms

// A fresh directory for ipc:// endpoints, removed at the end.
class IpcDir {
 public:
  IpcDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rivulet-zmq-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~IpcDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string endpoint(const std::string& name) const { return "ipc://" + path_ + "/" + name; }

 private:
  std::string path_;
};

config::Config zmqConfig(config::ZmqSocketType socket, std::string endpoint, bool bind,
                         std::vector<std::string> subscribe = {""},
                         config::Overflow overflow = config::Overflow::kBlock) {
  config::Config config;
  config::SourceConfig source;
  source.name = "feed";
  source.kind = config::SourceKind::kZmq;
  source.zmq.socket = socket;
  source.zmq.endpoint = std::move(endpoint);
  source.zmq.bind = bind;
  source.zmq.subscribe = std::move(subscribe);
  source.zmq.max_message = 256;
  source.overflow = overflow;
  source.time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  config.sources.push_back(source);
  config.pipelines.push_back(testutil::pipelineConfig(
      "n_by_c", "feed", {"c"}, {testutil::aggregate("n", config::AggregateKind::kSum, "n")}));
  return config;
}

using RunningZmq = testutil::SourceThread<ZmqSource>;

std::string json(std::int64_t ms, const std::string& c, std::int64_t n) {
  return R"({"ts":)" + std::to_string(ms) + R"(,"c":")" + c + R"(","n":)" + std::to_string(n) + "}";
}

// Sends the frames of one message.
void sendMessage(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::uint64_t counted(const pipeline::SourceStats& stats) {
  return stats.events.load() + testutil::totalErrors(stats) + stats.dropped.load();
}

// The n values of each c key, in arrival order.
std::map<std::string, std::vector<double>> byKey(RunningZmq& zmq) {
  std::map<std::string, std::vector<double>> out;
  for (const testutil::Record& r : zmq.rings().events(0))
    out[testutil::keyParts(r.key(1)).at(0).second].push_back(r.value(0));
  return out;
}

TEST(ZmqSourceConcurrent, PushToBoundPullTakesTheLastFrameOfEachMessage) {
  IpcDir dir;
  RunningZmq zmq(zmqConfig(config::ZmqSocketType::kPull, dir.endpoint("in"), true), 2);
  EXPECT_EQ(zmq.source().where(), "listening on " + dir.endpoint("in"));
  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(dir.endpoint("in"));

  const int n = 300 / RIVULET_TEST_SLOWDOWN;
  std::uint64_t sent = 0;
  for (int i = 0; i < n; ++i, ++sent) {
    const std::string event = json(kT0 + i, "c" + std::to_string(i % 3), i);
    if (i % 3 == 0) sendMessage(push, {event});
    if (i % 3 == 1) sendMessage(push, {"topic/c1/", event});
    if (i % 3 == 2) sendMessage(push, {"a", "", event});  // any number of frames before it
  }
  sendMessage(push, {"not json"});
  sendMessage(push, {json(kT0, "t", 1), "the last frame is the event"});
  sendMessage(push, {"[]"});
  sendMessage(push, {""});
  // max_message is 256: 256 bytes are read, 257 are counted as truncated.
  const std::string head = R"({"ts":1,"c":"x","n":1,"pad":")";
  sendMessage(push, {head + std::string(256 - head.size() - 2, 'p') + "\"}"});
  sendMessage(push, {"topic", head + std::string(257 - head.size() - 2, 'p') + "\"}"});
  sent += 6;
  ASSERT_TRUE(zmq.rings().drainUntil([&] { return counted(zmq.stats()) == sent; }))
      << counted(zmq.stats()) << " of " << sent;
  zmq.stop();

  const pipeline::SourceStats& stats = zmq.stats();
  EXPECT_EQ(stats.events.load(), static_cast<std::uint64_t>(n) + 1);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kInvalidJson), 3u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kNotObject), 1u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kTruncated), 1u);
  const auto got = byKey(zmq);
  for (int c = 0; c < 3; ++c) {
    std::vector<double> want;
    for (int i = c; i < n; i += 3) want.push_back(i);
    EXPECT_EQ(got.at("c" + std::to_string(c)), want) << c;
  }
  EXPECT_EQ(got.at("x"), std::vector<double>{1});
  for (const testutil::Record& r : zmq.rings().events(0)) {
    if (testutil::keyParts(r.key(1)).at(0).second[0] != 'c') continue;
    EXPECT_EQ(r.header.time, (kT0 + static_cast<std::int64_t>(r.value(0))) * kMs);
  }
  testutil::expectOneEndPerRing(zmq.rings(), pipeline::kEndStopped);
}

// The source's SUB connects to an XPUB: the XPUB sees its subscriptions arrive, so the test sends
// only once they are in place (a PUB drops what no subscription matches yet).
TEST(ZmqSourceConcurrent, SubscriptionsFilterByTopicPrefix) {
  zmq::context_t context(1);
  zmq::socket_t xpub(context, zmq::socket_type::xpub);
  xpub.set(zmq::sockopt::linger, 1000);
  xpub.set(zmq::sockopt::sndhwm, 0);
  xpub.bind("tcp://127.0.0.1:*");
  const std::string endpoint = xpub.get(zmq::sockopt::last_endpoint);
  RunningZmq zmq(zmqConfig(config::ZmqSocketType::kSub, endpoint, false, {"trades/", "fx/EUR"}), 1);
  EXPECT_EQ(zmq.source().where(), "connecting to " + endpoint);
  EXPECT_EQ(testutil::receiveSubscriptions(xpub, 2, std::chrono::seconds(30)),
            (std::vector<std::string>{"\x01"
                                      "fx/EUR",
                                      "\x01"
                                      "trades/"}))
      << "the subscriptions from the source";

  std::uint64_t wanted = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string event = json(kT0 + i, "k", i);
    switch (i % 4) {
      case 0:
        sendMessage(xpub, {"trades/AAPL", event});
        ++wanted;
        break;
      case 1:
        sendMessage(xpub, {"quotes/AAPL", event});  // not subscribed
        break;
      case 2:
        sendMessage(xpub, {"fx/EURUSD", event});
        ++wanted;
        break;
      default:
        sendMessage(xpub, {event});  // one frame: its JSON is its topic, which no prefix matches
        break;
    }
  }
  // Messages from one publisher arrive in order: once the last one is counted, any filtered one
  // before it would have been counted too.
  sendMessage(xpub, {"trades/end", json(kT0 + 100, "k", 100)});
  ++wanted;
  ASSERT_TRUE(zmq.rings().drainUntil([&] { return counted(zmq.stats()) == wanted; }));
  zmq.stop();
  EXPECT_EQ(zmq.stats().events.load(), wanted);
  EXPECT_EQ(testutil::totalErrors(zmq.stats()), 0u);
  std::vector<double> want;
  for (int i = 0; i < 60; ++i) {
    if (i % 4 == 0 || i % 4 == 2) want.push_back(i);
  }
  want.push_back(100);
  EXPECT_EQ(byKey(zmq).at("k"), want);
}

TEST(ZmqSourceConcurrent, DropPolicyDropsAtAFullRingAndCounts) {
  IpcDir dir;
  testutil::SourceThread<ZmqSource> zmq(zmqConfig(config::ZmqSocketType::kPull, dir.endpoint("in"),
                                                  true, {""}, config::Overflow::kDrop),
                                        1, true, 256);
  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(dir.endpoint("in"));
  const int n = 200;
  for (int i = 0; i < n; ++i) sendMessage(push, {json(kT0 + i, "k", i)});
  const auto deadline = std::chrono::steady_clock::now() + testutil::kDeadline;
  while (counted(zmq.stats()) < static_cast<std::uint64_t>(n)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << counted(zmq.stats()) << " of " << n;
    std::this_thread::yield();
  }
  const std::uint64_t events = zmq.stats().events.load();
  EXPECT_GT(zmq.stats().dropped.load(), 0u);
  EXPECT_EQ(events + zmq.stats().dropped.load(), static_cast<std::uint64_t>(n));
  zmq.stop();
  const std::vector<testutil::Record> got = zmq.rings().events(0);
  ASSERT_EQ(got.size(), events);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value(0), static_cast<double>(i));
}

TEST(ZmqSourceConcurrent, BindInUseOrBadEndpointFailsAtStartNamingTheSource) {
  zmq::context_t context(1);
  zmq::socket_t taken(context, zmq::socket_type::pull);
  taken.set(zmq::sockopt::linger, 0);
  taken.bind("tcp://127.0.0.1:*");
  const std::string endpoint = taken.get(zmq::sockopt::last_endpoint);
  for (const auto& [where, bind] : {std::pair<std::string, bool>{endpoint, true},
                                    std::pair<std::string, bool>{"tcp://127.0.0.1", false}}) {
    const config::Config config = zmqConfig(config::ZmqSocketType::kPull, where, bind);
    pipeline::SourceStats stats;
    testutil::RingSet rings(1, 64);
    try {
      ZmqSource source(config.sources[0],
                       pipeline::EventRouter(testutil::planFor(config), rings.pointers(), stats));
      FAIL() << where << " was accepted";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string("source feed: cannot ") + (bind ? "bind" : "connect")),
                std::string::npos)
          << what;
      EXPECT_NE(what.find(where), std::string::npos) << what;
    }
  }
}

TEST(ZmqSourceConcurrent, BindToPortZeroReportsThePortChosen) {
  RunningZmq zmq(zmqConfig(config::ZmqSocketType::kPull, "tcp://127.0.0.1:*", true), 1);
  const std::string& endpoint = zmq.source().endpoint();
  EXPECT_EQ(endpoint.rfind("tcp://127.0.0.1:", 0), 0u) << endpoint;
  EXPECT_GT(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)), 0) << endpoint;
  zmq.stop();
}

TEST(ZmqSourceConcurrent, StopWithoutTrafficEndsTheStream) {
  IpcDir dir;
  RunningZmq zmq(zmqConfig(config::ZmqSocketType::kSub, dir.endpoint("none"), false), 2);
  zmq.stop();
  testutil::expectOneEndPerRing(zmq.rings(), pipeline::kEndStopped);
  EXPECT_EQ(zmq.rings().count(RecordType::kEvent), 0u);
}

}  // namespace
}  // namespace rivulet::connectors
