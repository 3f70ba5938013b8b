// Pipelines that read pipelines, end to end: trades from a FIFO read as a file source; an internal
// per-symbol pipeline (publish: false) feeds a re-keyed two-second summary, which feeds a third
// tier, and a ranked pipeline beside it, over three stages per tier. Every published result and
// marker is checked against a brute-force reference computed from the raw trades.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kSeconds = 20, kPerSecond = 40;

std::string config(const TempDir& dir, const std::string& input) {
  DaemonSection daemon;
  daemon.stages = 3;
  return daemonYaml(dir, daemon) + "sources:\n" + fileSourceYaml("replay", input) +
         "pipelines:\n"
         "  per_sym:\n"
         "    from: replay\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      volume: sum(qty)\n"
         "      vwap: sum(px * qty) / sum(qty)\n"
         "      trades: count()\n"
         "    publish: false\n"
         "  summary:\n"
         "    from: per_sym\n"
         "    group_by:\n"
         "      - band: floor(volume / 500)\n"
         "    window: {tumbling: 2s}\n"
         "    aggregates:\n"
         "      syms: count()\n"
         "      volume: sum(volume)\n"
         "      best_vwap: max(vwap)\n"
         "      last_end: max(window_end)\n"
         "    where: trades >= 2\n"
         "  overall:\n"
         "    from: summary\n"
         "    window: upstream\n"
         "    aggregates:\n"
         "      bands: count()\n"
         "      volume: sum(volume)\n"
         "  top_syms:\n"
         "    from: per_sym\n"
         "    group_by: [sym]\n"
         "    window: upstream\n"
         "    aggregates:\n"
         "      volume: sum(volume)\n"
         "    top: {n: 2, by: volume}\n";
}

struct PerSym {
  std::int64_t volume = 0, trades = 0;
  double notional = 0;
};
struct Band {
  std::int64_t syms = 0, volume = 0, last_end = 0;
  double best_vwap = -INFINITY;
};

using DaemonChain = SubscribedDaemonTest;

TEST_F(DaemonChain, EachTierMatchesTheReference) {
  Fifo fifo(dir_.file("in.fifo"));
  const std::vector<std::string> symbols = {"AAPL", "MSFT", "GOOG", "IBM", "ORCL", "SAP", "x y"};
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::string text;
  std::map<std::pair<std::int64_t, std::string>, PerSym> per_sym;  // (second start, sym)
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) {
      // Skewed: the first symbols trade more, so that bands and ranks differ.
      const std::string& sym = symbols[std::min(rng() % symbols.size(), rng() % symbols.size())];
      const std::int64_t ts = kBase + s * 1000 + i * 20;
      const std::int64_t qty = 1 + static_cast<std::int64_t>(rng() % 100);
      const double px = static_cast<double>(100 + rng() % 900) / 8;  // exact in binary
      text += "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + sym +
              "\",\"px\":" + std::to_string(px) + ",\"qty\":" + std::to_string(qty) + "}\n";
      PerSym& p = per_sym[{kBase + s * 1000, sym}];
      p.volume += qty;
      p.notional += px * static_cast<double>(qty);
      ++p.trades;
    }
  }
  // summary: per 2 s window and band, over the per-second results with trades >= 2.
  std::map<std::pair<std::int64_t, std::int64_t>, Band> bands;  // (window start, band)
  // top_syms: per second, the symbols ranked by volume.
  std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::string>>> ranked;
  for (const auto& [id, p] : per_sym) {
    ranked[id.first].emplace_back(p.volume, id.second);
    if (p.trades < 2) continue;
    const std::int64_t start = id.first - (id.first - kBase) % 2000;
    Band& b = bands[{start, p.volume / 500}];
    ++b.syms;
    b.volume += p.volume;
    b.best_vwap = std::max(b.best_vwap, p.notional / static_cast<double>(p.volume));
    b.last_end = std::max(b.last_end, id.first + 1000);
  }
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> overall;  // start -> bands, volume
  for (const auto& [id, b] : bands) {
    ++overall[id.first].first;
    overall[id.first].second += b.volume;
  }

  ASSERT_NO_FATAL_FAILURE(start(config(dir_, fifo.path())));
  ASSERT_NO_FATAL_FAILURE(replayToTheEnd(fifo, std::move(text)));
  ASSERT_TRUE(subscriber_->receiveUntil(
      [&](const std::vector<Message>&) {
        return received("_window/overall/") == kSeconds / 2 &&
               received("_window/top_syms/") == static_cast<std::size_t>(kSeconds);
      },
      30s));

  EXPECT_EQ(received("per_sym/"), 0u) << "publish: false";
  EXPECT_EQ(received("_window/per_sym/"), 0u);
  std::vector<Message> results;
  for (const Message& m : subscriber_->messages()) {
    if (m.topic.rfind("_", 0) != 0) results.push_back(m);
  }
  std::map<std::pair<std::int64_t, std::int64_t>, Band> got_bands;
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> got_overall;
  std::map<std::int64_t, std::set<std::string>> got_top;
  for (const Result& r : parseResults(results)) {
    EXPECT_EQ(r.kind, "final") << r.payload;
    if (r.pipeline == "summary") {
      EXPECT_EQ(r.end, r.start + 2000);
      ASSERT_EQ(r.key.size(), 1u) << r.payload;
      const std::int64_t band = std::stoll(r.key.front().second);
      EXPECT_TRUE(
          got_bands
              .emplace(std::make_pair(r.start, band),
                       Band{r.values.at("syms").integer, r.values.at("volume").integer,
                            r.values.at("last_end").integer, r.values.at("best_vwap").number})
              .second)
          << "twice: " << r.payload;
    } else if (r.pipeline == "overall") {
      EXPECT_TRUE(got_overall
                      .emplace(r.start, std::make_pair(r.values.at("bands").integer,
                                                       r.values.at("volume").integer))
                      .second)
          << "twice: " << r.payload;
    } else if (r.pipeline == "top_syms") {
      EXPECT_EQ(r.end, r.start + 1000);
      got_top[r.start].insert(r.key.front().second);
    } else {
      ADD_FAILURE() << "unexpected: " << r.payload;
    }
  }
  ASSERT_EQ(got_bands.size(), bands.size());
  for (const auto& [id, b] : bands) {
    const auto it = got_bands.find(id);
    ASSERT_NE(it, got_bands.end()) << "missing band " << id.second << " at " << id.first;
    EXPECT_EQ(it->second.syms, b.syms);
    EXPECT_EQ(it->second.volume, b.volume);
    EXPECT_EQ(it->second.last_end, b.last_end);
    EXPECT_EQ(it->second.best_vwap, b.best_vwap);
  }
  EXPECT_EQ(got_overall, overall);
  ASSERT_EQ(got_top.size(), ranked.size());
  for (auto& [start, rows] : ranked) {
    std::sort(rows.rbegin(), rows.rend());
    // The first two by volume, and every symbol tied with the second.
    std::set<std::string> want;
    for (const auto& [volume, sym] : rows) {
      if (want.size() < 2 || volume == rows[std::min<std::size_t>(1, rows.size() - 1)].first) {
        want.insert(sym);
      }
    }
    EXPECT_EQ(got_top[start], want) << "second " << start;
  }
}

}  // namespace
}  // namespace rivulet::testutil
