// The real daemon with two udp sources, one of JSON datagrams and one of CSV rows (its columns in
// another order, overflow: drop), each mixed with malformed and over-long datagrams. Every final
// result is checked against a brute-force reference and every counter via /metrics.
//
// UDP may lose datagrams, so the test is built so that it cannot: datagrams go out in rounds of
// at most 50 (a few tens of KiB of socket buffer, whatever rcvbuf the kernel grants) and each
// round is waited for until the source has counted all of it; nothing is dropped at the rings (a
// stage takes ~1 M events/s); and the kernel's drop counter (SO_RXQ_OVFL) is checked to be 0.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

constexpr int kSeconds = 4;
constexpr int kPerSecond = 150;
constexpr std::size_t kRound = 50;
const std::vector<std::string> kCsvColumns = {"px", "ts", "sym"};

std::string configYaml(const TempDir& dir) {
  return daemonYaml(dir) +
         "sources:\n"
         "  json_in:\n"
         "    kind: udp\n"
         "    listen: 127.0.0.1:0\n"
         "    rcvbuf: 4194304\n"
         "    max_datagram: 512\n"
         "    time: {field: ts, unit: ms}\n"
         "  csv_in:\n"
         "    kind: udp\n"
         "    listen: 127.0.0.1:0\n"
         "    overflow: drop\n"
         "    format: csv\n"
         "    columns: [px, ts, sym]\n"
         "    time: {field: ts, unit: ms}\n"
         "pipelines:\n" +
         tradePipeline("json_trades", "json_in") + tradePipeline("csv_trades", "csv_in");
}

// One source's side of the test: what it was sent and what it must have counted.
struct Input {
  std::string source;
  TradeFeed feed;
  bool csv = false;
  std::int64_t sent = 0;
  std::map<std::string, std::int64_t> errors{};
};

// Sends `datagrams` in rounds, each waited for until the source has counted it.
::testing::AssertionResult sendInRounds(const Daemon& daemon, Input& in,
                                        const std::vector<std::string>& datagrams) {
  UdpSender sender(daemon.sourcePort(in.source));
  for (std::size_t i = 0; i < datagrams.size(); ++i) {
    if (!sender.send(datagrams[i])) return ::testing::AssertionFailure() << "sendto failed";
    ++in.sent;
    if ((i + 1) % kRound == 0 || i + 1 == datagrams.size()) {
      if (auto counted = waitCounted(daemon, in.source, in.sent); !counted) return counted;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(DaemonUdp, JsonAndCsvDatagramsMatchTheReferenceAndEveryOneIsCounted) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir));
  ASSERT_TRUE(daemon.waitReady());
  ASSERT_GT(daemon.sourcePort("json_in"), 0) << daemon.log();
  ASSERT_GT(daemon.sourcePort("csv_in"), 0) << daemon.log();
  Subscriber subscriber(daemon.publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(daemon, subscriber));

  Input json{"json_in", TradeFeed("json_trades", 11)};
  Input csv{"csv_in", TradeFeed("csv_trades", 12), true};
  for (int second = 0; second < kSeconds; ++second) {
    for (Input* in : {&json, &csv}) {
      std::vector<std::string> datagrams;
      for (const Trade& t : in->feed.second(second, kPerSecond)) {
        datagrams.push_back(in->csv ? toCsv(t, kCsvColumns, second % 2 == 1) : toJson(t));
        // A line break at the end of a datagram is not part of the event.
        if (t.ts % 5 == 0) datagrams.back() += in->csv && t.ts % 2 == 0 ? "\r\n" : "\n";
      }
      const std::int64_t ts = kFeedBase + second * 1000 + 500;
      const Malformed bad = in->csv ? malformedCsv(ts, kCsvColumns) : malformedJson(ts);
      for (const auto& [reason, datagram] : bad) {
        datagrams.push_back(datagram);
        ++in->errors[reason];
      }
      if (!in->csv) {
        // Over max_datagram (512): cut by the kernel, counted as truncated, never parsed.
        datagrams.push_back("{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" +
                            std::string(600, 'L') + "\",\"px\":1}");
        ++in->errors["truncated"];
      }
      std::shuffle(datagrams.begin(), datagrams.end(), in->feed.rng());
      ASSERT_TRUE(sendInRounds(daemon, *in, datagrams)) << in->source;
    }
  }
  for (Input* in : {&json, &csv}) {
    const Trade far = in->feed.farFuture();
    ASSERT_TRUE(sendInRounds(daemon, *in, {in->csv ? toCsv(far, kCsvColumns) : toJson(far)}));
  }

  const std::size_t finals = json.feed.reference().countFired(TradeFeed::kFarFuture) +
                             csv.feed.reference().countFired(TradeFeed::kFarFuture);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>& scraped) { return countResults(scraped) >= finals; }, 30s))
      << countResults(subscriber.messages()) << " of " << finals << " results";
  Metrics metrics;
  ASSERT_TRUE(waitCounted(daemon, "json_in", json.sent, &metrics));
  for (const Input* in : {&json, &csv}) {
    expectSourceCounters(metrics, in->source, in->feed.accepted(), in->errors);
    EXPECT_EQ(metrics.value("rivulet_source_socket_drops_total", {{"source", in->source}}), 0.0)
        << in->source;
  }
  for (const char* pipeline : {"json_trades", "csv_trades"}) {
    for (const char* name :
         {"rivulet_pipeline_keys_refused_total", "rivulet_pipeline_results_dropped_total"}) {
      EXPECT_EQ(metrics.value(name, {{"pipeline", pipeline}}), 0.0) << name << " " << pipeline;
    }
  }
  const std::vector<Result> results = parseResults(subscriber.messages());
  json.feed.expectFinalsMatch(results);
  csv.feed.expectFinalsMatch(results);
  expectSeqWithoutGaps(results);

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

}  // namespace
}  // namespace rivulet::testutil
