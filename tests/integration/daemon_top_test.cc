// `top:` end to end, over two stages: bids from a FIFO read as a file source; NEXMark Q5's shape
// (hopping windows, the auctions with the most bids, ties all kept) and the three auctions with
// the lowest totals per tumbling window (ties dropped, broken in key order). Every published row,
// its rank and each window's marker are checked against a brute-force ranking of the raw bids.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, a multiple of 10 s
constexpr int kSeconds = 30, kPerSecond = 8;

std::string config(const TempDir& dir, const std::string& input) {
  return daemonYaml(dir) + "sources:\n" + fileSourceYaml("bids", input) +
         "pipelines:\n"
         "  hot: {from: bids, group_by: [auction], window: {hopping: {size: 10s, slide: 2s}},\n"
         "        aggregates: {num: count()}, top: {n: 1, by: num}}\n"
         "  quiet: {from: bids, group_by: [auction], window: {tumbling: 2s},\n"
         "          aggregates: {total: sum(price)},\n"
         "          top: {n: 3, by: total, order: asc, ties: drop}}\n";
}

struct Row {
  std::int64_t start;
  std::string auction;
  double value;
  std::int64_t rank;
  auto operator<=>(const Row&) const = default;
};

// The reference: per window (start), the value of each auction; ranked as top: says.
std::vector<Row> rank(const std::map<std::int64_t, std::map<std::string, double>>& windows,
                      std::size_t n, bool ascending, bool keep_ties, const std::string& name) {
  std::vector<Row> out;
  for (const auto& [start, values] : windows) {
    std::vector<std::tuple<double, std::string, std::string>> sorted;
    for (const auto& [auction, value] : values) {
      sorted.emplace_back(value, name + "/" + auction + "/", auction);
    }
    std::sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
      if (std::get<0>(a) != std::get<0>(b)) {
        return ascending ? std::get<0>(a) < std::get<0>(b) : std::get<0>(a) > std::get<0>(b);
      }
      return std::get<1>(a) < std::get<1>(b);
    });
    std::size_t keep = std::min(n, sorted.size());
    while (keep_ties && keep < sorted.size() &&
           std::get<0>(sorted[keep]) == std::get<0>(sorted[n - 1])) {
      ++keep;
    }
    std::int64_t r = 0;
    for (std::size_t i = 0; i < keep; ++i) {
      if (i == 0 || std::get<0>(sorted[i]) != std::get<0>(sorted[i - 1])) {
        r = static_cast<std::int64_t>(i) + 1;
      }
      out.push_back(Row{start, std::get<2>(sorted[i]), std::get<0>(sorted[i]), r});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

using DaemonTop = SubscribedDaemonTest;

TEST_F(DaemonTop, RanksEveryWindowAcrossStagesAsTheReferenceDoes) {
  Fifo fifo(dir_.file("in.fifo"));
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  // Few auctions and few bids: counts tie at the top, totals at the bottom.
  std::map<std::int64_t, std::map<std::string, double>> counts, totals;  // by window start
  std::string text;
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) {
      const std::int64_t ts = kBase + s * 1000 + i * 125;  // in order: none is late
      // The first two seconds: two auctions, as many bids each, so that the windows that hold
      // only them tie at the top; then six auctions at random.
      const std::string auction = std::to_string(1000 + (s < 2 ? i % 2 : rng() % 6));
      const std::int64_t price = static_cast<std::int64_t>(1 + rng() % 5);
      text += "{\"ts\":" + std::to_string(ts) + ",\"auction\":" + auction +
              ",\"price\":" + std::to_string(price) + "}\n";
      for (std::int64_t start = (ts / 2000) * 2000 - 8000; start <= ts; start += 2000) {
        counts[start][auction] += 1;
      }
      totals[(ts / 2000) * 2000][auction] += static_cast<double>(price);
    }
  }
  const std::vector<Row> hot = rank(counts, 1, false, true, "hot");
  const std::vector<Row> quiet = rank(totals, 3, true, false, "quiet");
  ASSERT_GT(hot.size(), counts.size()) << "no tie at the top: the test would not tell";

  ASSERT_NO_FATAL_FAILURE(start(config(dir_, fifo.path())));
  ASSERT_NO_FATAL_FAILURE(replayToTheEnd(fifo, std::move(text)));
  ASSERT_TRUE(subscriber_->receiveUntil(
      [&](const std::vector<Message>&) {
        return received("_window/hot/") == counts.size() &&
               received("_window/quiet/") == totals.size();
      },
      30s));

  std::vector<Message> results;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> marked;  // name -> start -> results
  for (const Message& m : subscriber_->messages()) {
    if (m.topic.rfind("_window/", 0) != 0) {
      results.push_back(m);
      continue;
    }
    const std::string name = m.topic.substr(8, m.topic.size() - 9);
    const auto start = m.payload.find("\"start\":");
    const auto count = m.payload.find("\"results\":");
    marked[name][std::stoll(m.payload.substr(start + 8))] =
        std::stoll(m.payload.substr(count + 10));
  }
  std::map<std::string, std::vector<Row>> got;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> published;
  for (const Result& r : parseResults(results)) {
    EXPECT_EQ(r.kind, "final") << r.payload;
    const std::string value = r.pipeline == "hot" ? "num" : "total";
    got[r.pipeline].push_back(
        Row{r.start, r.key.at(0).second, r.values.at(value).number, r.values.at("rank").integer});
    ++published[r.pipeline][r.start];
  }
  for (auto& [name, rows] : got) std::sort(rows.begin(), rows.end());
  EXPECT_EQ(got["hot"], hot);
  EXPECT_EQ(got["quiet"], quiet);
  for (const auto& [name, windows] : marked) {
    for (const auto& [start, n] : windows) {
      EXPECT_EQ(n, published[name][start]) << name << " window " << start;
    }
  }
}

}  // namespace
}  // namespace rivulet::testutil
