// The real daemon's tcp source keeps serving its clients while others misbehave: three clients
// stream trades second by second; mid-stream one client sends a good line, garbage and half a
// line and is reset (RST), another sends half a line and closes. The results must still match a
// brute-force reference of every good line, and each bad line be counted once under its reason.
// Run for JSON lines and for CSV, where each connection sends its own header with its own column
// order.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

constexpr int kSeconds = 4;
constexpr int kPerSecond = 300;

class DaemonTcpClients : public ::testing::TestWithParam<bool> {
 protected:
  bool csv() const { return GetParam(); }

  std::string configYaml(const TempDir& dir) const {
    return daemonYaml(dir) +
           "sources:\n"
           "  in:\n"
           "    kind: tcp\n"
           "    listen: 127.0.0.1:0\n" +
           (csv() ? "    format: csv\n    header: true\n" : "") +
           "    time: {field: ts, unit: ms}\n"
           "pipelines:\n" +
           tradePipeline("trades", "in");
  }

  // A line of `t` for a client whose header named `columns`.
  std::string line(const Trade& t, const std::vector<std::string>& columns) const {
    return (csv() ? toCsv(t, columns) : toJson(t)) + "\n";
  }
  std::string header(const std::vector<std::string>& columns) const {
    if (!csv()) return "";
    std::string text;
    for (std::size_t i = 0; i < columns.size(); ++i) text += (i ? "," : "") + columns[i];
    return text + "\r\n";
  }
  Malformed malformed(std::int64_t ts, const std::vector<std::string>& columns) const {
    return csv() ? malformedCsv(ts, columns) : malformedJson(ts);
  }
};

TEST_P(DaemonTcpClients, OneClientsGarbageOrVanishingCostsOnlyItsOwnLines) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir));
  ASSERT_TRUE(daemon.waitReady());
  const int port = daemon.sourcePort("in");
  ASSERT_GT(port, 0);
  Subscriber subscriber(daemon.publishEndpoint("ipc://"));
  ASSERT_TRUE(waitSubscribed(daemon, subscriber));

  const std::vector<std::vector<std::string>> orders = {
      {"ts", "sym", "px"}, {"px", "ts", "sym"}, {"sym", "px", "ts"}};
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (const auto& columns : orders) {
    clients.push_back(std::make_unique<TcpClient>(port));
    ASSERT_TRUE(clients.back()->send(header(columns)));
  }
  TradeFeed feed("trades", csv() ? 31 : 32);
  std::int64_t sent = 0;  // data lines the source must count
  std::map<std::string, std::int64_t> errors;

  for (int second = 0; second < kSeconds; ++second) {
    const std::vector<Trade> trades = feed.second(second, kPerSecond);
    const std::int64_t ts = kFeedBase + second * 1000 + 500;
    // Each client's share, split into two halves around the misbehaving client.
    std::vector<std::string> first_half(clients.size()), second_half(clients.size());
    std::int64_t second_half_lines = 0;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const std::size_t c = i % clients.size();
      const bool first = i < trades.size() / 2;
      (first ? first_half : second_half)[c] += line(trades[i], orders[c]);
      ++(first ? sent : second_half_lines);
    }
    for (const auto& [reason, text] : malformed(ts, orders[1])) {
      second_half[1] += text + "\n";
      ++errors[reason];
      ++second_half_lines;
    }
    for (std::size_t c = 0; c < clients.size(); ++c) ASSERT_TRUE(clients[c]->send(first_half[c]));
    if (second == 1) {
      // A good line, garbage and half a line, then a reset. The half line is still read, as the
      // connection's last line, and refused.
      TcpClient bad(port);
      const Trade good{ts + 1, "BAD", 2.5, "2.5"};
      feed.add(good);
      const std::string half = csv() ? std::to_string(ts) + ",\"HALF" : "{\"ts\":1,\"sy";
      ASSERT_TRUE(bad.send(header(orders[0]) + line(good, orders[0]) + "%%% garbage %%%\n" + half));
      sent += 2;
      ASSERT_TRUE(waitCounted(daemon, "in", sent));  // all but the half line, which is pending
      bad.reset();
      ++sent;
      // As CSV the garbage is a row of one column, and the half line has an open quote.
      ++errors[csv() ? "wrong_column_count" : "invalid_json"];
      ++errors[csv() ? "invalid_csv" : "invalid_json"];
    }
    if (second == 2) {
      // Half a line, then an orderly close.
      TcpClient half(port);
      ASSERT_TRUE(half.send(header(orders[2]) + (csv() ? "BAD,1" : "{\"ts\":1")));
      half.close();
      ++sent;
      ++errors[csv() ? "wrong_column_count" : "invalid_json"];
    }
    for (std::size_t c = 0; c < clients.size(); ++c) ASSERT_TRUE(clients[c]->send(second_half[c]));
    sent += second_half_lines;
    ASSERT_TRUE(waitCounted(daemon, "in", sent)) << "second " << second;
  }
  ASSERT_TRUE(clients[0]->send(line(feed.farFuture(), orders[0])));
  ++sent;
  Metrics metrics;
  ASSERT_TRUE(waitCounted(daemon, "in", sent, &metrics));

  const std::size_t finals = feed.reference().countFired(TradeFeed::kFarFuture);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>& scraped) { return countResults(scraped) >= finals; }, 30s))
      << countResults(subscriber.messages()) << " of " << finals << " results";
  expectSourceCounters(metrics, "in", feed.accepted(), errors);
  const std::vector<Result> results = parseResults(subscriber.messages());
  feed.expectFinalsMatch(results);
  expectSeqWithoutGaps(results);
  for (auto& client : clients) client->close();
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, DaemonTcpClients, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& tested) {
                           return tested.param ? "Csv" : "Json";
                         });

}  // namespace
}  // namespace rivulet::testutil
