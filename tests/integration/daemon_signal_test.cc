// Stopping a daemon that follows a growing file (DESIGN §4): windows the watermark passed arrive
// as final while it runs; SIGINT stops the source, and the windows still open arrive as "partial"
// with the values of everything read, before the daemon exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <random>

#include "tests/integration/harness.h"
#include "tests/integration/harness/feed.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kBase = 1'700'000'000'000;

std::string followConfig(const TempDir& dir) {
  return daemonYaml(dir) + "sources:\n  tail:\n    kind: file\n    path: " + dir.file("in.jsonl") +
         "\n    follow: true\n    time: {field: ts, unit: ms}\npipelines:\n" +
         tradePipeline("trades", "tail") + hopPipeline("hop", "tail");
}

// The daemon following an empty file on followConfig(), with a subscriber it counts.
using DaemonSignal = FollowingDaemonTest<followConfig>;

TEST_F(DaemonSignal, SigintFlushesOpenWindowsOfAFollowedFileAsPartial) {
  Daemon& daemon = *daemon_;
  Subscriber& subscriber = *subscriber_;
  std::string error;

  // Seconds 0..2 in full and part of second 3, shuffled within each second with distinct times;
  // each second is appended in two writes that cut a line in half.
  const std::vector<std::string> symbols = {"AAPL", "MSFT", "GOOG", "IBM", "ORCL"};
  std::mt19937_64 rng(42);
  WindowReference trades("trades", {"sym"}, 1000, 1000);
  WindowReference hop("hop", {}, 3000, 1000);
  std::int64_t events = 0;
  std::int64_t watermark = 0;
  for (int second = 0; second < 4; ++second) {
    std::vector<int> offsets(1000);
    for (int i = 0; i < 1000; ++i) offsets[static_cast<std::size_t>(i)] = i;
    std::shuffle(offsets.begin(), offsets.end(), rng);
    std::string text;
    const int n = second < 3 ? 300 : 120;
    for (int i = 0; i < n; ++i) {
      const std::int64_t ts = kBase + second * 1000 + offsets[static_cast<std::size_t>(i)];
      const std::string& sym = symbols[rng() % symbols.size()];
      char px[32];
      std::snprintf(px, sizeof px, "%.2f", static_cast<double>(rng() % 100000) / 100);
      text += "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + sym + "\",\"px\":" + px + "}\n";
      const std::optional<double> value = std::strtod(px, nullptr);
      trades.add(ts, {sym}, value);
      hop.add(ts, {}, value);
      watermark = std::max(watermark, ts);
      ++events;
    }
    const std::size_t cut = text.size() / 2 + 7;
    appendFile(dir_.file("in.jsonl"), std::string_view(text).substr(0, cut));
    appendFile(dir_.file("in.jsonl"), std::string_view(text).substr(cut));
  }

  // Everything read, and every window the watermark passed published as final.
  const auto all_read = daemon.scrapeUntil(
      [&](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_source_events_total", {{"source", "tail"}}) ==
               static_cast<double>(events);
      },
      30s, &error);
  ASSERT_TRUE(all_read) << error;
  ASSERT_EQ(all_read->value("rivulet_source_events_total", {{"source", "tail"}}),
            static_cast<double>(events));
  const std::size_t finals = trades.countFired(watermark) + hop.countFired(watermark);
  const std::size_t partials =
      trades.countFired(watermark, false) + hop.countFired(watermark, false);
  ASSERT_EQ(hop.countFired(watermark), 3u);  // [-2, 1), [-1, 2), [0, 3) seconds
  ASSERT_EQ(hop.countFired(watermark, false), 3u);
  ASSERT_TRUE(subscriber.receiveUntil(
      [&](const std::vector<Message>& scraped) { return countResults(scraped) >= finals; }, 30s))
      << countResults(subscriber.messages()) << " of " << finals << " finals";

  ASSERT_TRUE(daemon.process().signal(SIGINT));
  const auto stopped_at = Clock::now();
  const auto exit_code = daemon.process().wait(30s);
  ASSERT_TRUE(exit_code.has_value()) << "still running 30 s after SIGINT";
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stopped_at).count(), 5.0);
  EXPECT_THAT(daemon.log(), HasSubstr("SIGINT"));

  subscriber.receiveUntil(
      [&](const std::vector<Message>& scraped) {
        return countResults(scraped) >= finals + partials;
      },
      10s);
  subscriber.receiveFor(200ms);
  const std::vector<Result> results = parseResults(subscriber.messages());
  EXPECT_EQ(results.size(), finals + partials);
  const auto passed = [&](const WindowId& w) { return w.end <= watermark; };
  const auto open = [&](const WindowId& w) { return w.end > watermark; };
  expectResultsMatch(results, "final", trades, kTradeAggregates, passed);
  expectResultsMatch(results, "final", hop, kHopAggregates, passed);
  expectResultsMatch(results, "partial", trades, kTradeAggregates, open);
  expectResultsMatch(results, "partial", hop, kHopAggregates, open);
  expectSeqWithoutGaps(results);
}

TEST_F(DaemonSignal, SigtermWithoutInputExitsZeroAndPublishesNothing) {
  ASSERT_TRUE(daemon_->process().signal(SIGTERM));
  const auto exit_code = daemon_->process().wait(30s);
  ASSERT_TRUE(exit_code.has_value()) << "still running 30 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  subscriber_->receiveFor(200ms);
  EXPECT_EQ(countResults(subscriber_->messages()), 0u);
}

}  // namespace
}  // namespace rivulet::testutil
