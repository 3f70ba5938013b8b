// Values computed from aggregates and `having:`, end to end: trades from a FIFO read as a file
// source, published over ZeroMQ until the input ends; every result, its values in config order
// and each window's end-of-window marker are checked against a brute-force reference that
// recomputes every (window, symbol) from the raw trades.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kSeconds = 20, kPerSecond = 30;

struct Trade {
  std::int64_t ts;
  std::string sym;
  double px;
  std::int64_t qty;
};

struct Expected {
  double volume = 0, notional = 0, high = -INFINITY, low = INFINITY;
  std::int64_t trades = 0, big = 0;
};

std::string config(const TempDir& dir, const std::string& input) {
  return daemonYaml(dir) + "sources:\n" + fileSourceYaml("replay", input) +
         "pipelines:\n"
         "  vwap:\n"
         "    from: replay\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      volume: sum(qty)\n"
         "      vwap: sum(px * qty) / sum(qty)\n"
         "      range: max(px) - min(px)\n"
         "      trades: count()\n"
         "      big_share: count_if(qty > 50) / trades\n"
         "    having: trades >= 3 and sum(qty) > 150\n";
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

using DaemonComputed = SubscribedDaemonTest;

TEST_F(DaemonComputed, ComputedValuesAndHavingMatchTheReference) {
  Fifo fifo(dir_.file("in.fifo"));
  // Symbols of very different frequencies, so that having keeps some (window, symbol) pairs and
  // drops others, and drops whole windows of some symbols.
  const std::vector<std::pair<std::string, int>> symbols = {
      {"AAPL", 10}, {"MSFT", 5}, {"GOOG", 3}, {"IBM", 1}, {"x y", 1}};
  std::vector<std::string> weighted;
  for (const auto& [sym, weight] : symbols) weighted.insert(weighted.end(), weight, sym);
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::string text;
  std::map<std::pair<std::int64_t, std::string>, Expected> reference;  // (start, sym)
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) {
      // In order of time: none is late.
      const Trade t{kBase + s * 1000 + i * 30, weighted[rng() % weighted.size()],
                    static_cast<double>(10000 + rng() % 90000) / 1000,
                    static_cast<std::int64_t>(1 + rng() % 100)};
      char px[32];
      std::snprintf(px, sizeof px, "%.3f", t.px);
      text += "{\"ts\":" + std::to_string(t.ts) + ",\"sym\":\"" + t.sym + "\",\"px\":" + px +
              ",\"qty\":" + std::to_string(t.qty) + "}\n";
      Expected& e = reference[{kBase + s * 1000, t.sym}];
      const double p = std::strtod(px, nullptr);
      e.volume += static_cast<double>(t.qty);
      e.notional += p * static_cast<double>(t.qty);
      e.high = std::max(e.high, p);
      e.low = std::min(e.low, p);
      ++e.trades;
      e.big += t.qty > 50;
    }
  }
  std::map<std::pair<std::int64_t, std::string>, Expected> kept;
  std::map<std::int64_t, std::int64_t> kept_per_window;
  for (const auto& [id, e] : reference) {
    if (e.trades >= 3 && e.volume > 150) {
      kept.emplace(id, e);
      ++kept_per_window[id.first];
    }
  }
  ASSERT_LT(kept.size(), reference.size()) << "having must drop some results for the test to tell";

  ASSERT_NO_FATAL_FAILURE(start(config(dir_, fifo.path())));
  ASSERT_NO_FATAL_FAILURE(replayToTheEnd(fifo, std::move(text)));
  // Every window's marker: the last result of each came before it.
  ASSERT_TRUE(subscriber_->receiveUntil(
      [&](const std::vector<Message>&) {
        return received("_window/vwap/") == static_cast<std::size_t>(kSeconds);
      },
      30s));

  std::map<std::int64_t, std::int64_t> markers;  // window start -> results it counts
  std::vector<Message> results;
  for (const Message& m : subscriber_->messages()) {
    if (m.topic.rfind("_window/vwap/", 0) == 0) {
      const auto start = m.payload.find("\"start\":");
      const auto count = m.payload.find("\"results\":");
      ASSERT_NE(count, std::string::npos) << m.payload;
      markers[std::stoll(m.payload.substr(start + 8))] = std::stoll(m.payload.substr(count + 10));
    } else {
      results.push_back(m);
    }
  }
  std::map<std::int64_t, std::int64_t> markers_with_results;
  for (const auto& [start, n] : markers) {
    if (n > 0) markers_with_results[start] = n;
  }
  EXPECT_EQ(markers_with_results, kept_per_window);
  for (const Message& m : results) {
    // The values in config order, the hidden aggregates absent.
    const auto at = [&](const std::string& name) { return m.payload.find("\"" + name + "\":"); };
    EXPECT_LT(at("volume"), at("vwap")) << m.payload;
    EXPECT_LT(at("vwap"), at("range")) << m.payload;
    EXPECT_LT(at("range"), at("trades")) << m.payload;
    EXPECT_LT(at("trades"), at("big_share")) << m.payload;
    EXPECT_EQ(at("sum(qty)"), std::string::npos) << m.payload;
  }
  const std::vector<Result> parsed = parseResults(results);
  ASSERT_EQ(parsed.size(), kept.size());
  for (const Result& r : parsed) {
    ASSERT_EQ(r.key.size(), 1u);
    const auto it = kept.find({r.start, r.key.front().second});
    ASSERT_NE(it, kept.end()) << "published though having drops it: " << r.payload;
    const Expected& e = it->second;
    EXPECT_EQ(r.kind, "final");
    EXPECT_EQ(r.end, r.start + 1000);
    EXPECT_TRUE(near(r.values.at("volume").number, e.volume)) << r.payload;
    EXPECT_TRUE(near(r.values.at("vwap").number, e.notional / e.volume)) << r.payload;
    EXPECT_TRUE(near(r.values.at("range").number, e.high - e.low)) << r.payload;
    EXPECT_EQ(r.values.at("trades").integer, e.trades) << r.payload;
    EXPECT_TRUE(near(r.values.at("big_share").number,
                     static_cast<double>(e.big) / static_cast<double>(e.trades)))
        << r.payload;
  }
}

}  // namespace
}  // namespace rivulet::testutil
