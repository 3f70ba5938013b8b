// Window joins (`join:`), end to end: one stream of left and right rows from a FIFO read as a
// file source, joined on a key in hopping windows (inner) and tumbling windows (left, with a
// string field and missing values), over two stages, and the left join's rows read by a third
// pipeline. Every result against a brute-force join of the raw rows, as multisets: one result per
// joined row.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/fifo.h"

namespace rivulet::testutil {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kSeconds = 20, kPerSecond = 30;

std::string config(const TempDir& dir, const std::string& input) {
  return daemonYaml(dir) + "sources:\n" + fileSourceYaml("rows", input) +
         "pipelines:\n"
         "  inner:\n"
         "    join:\n"
         "      left: {from: rows, where: \"side == 'L'\", key: [k], fields: [{lv: v}]}\n"
         "      right: {from: rows, where: \"side == 'R'\", key: [k], fields: [{rv: v}]}\n"
         "    window: {hopping: {size: 2s, slide: 1s}}\n"
         "  outer:\n"
         "    join:\n"
         "      type: left\n"
         "      left: {from: rows, where: \"side == 'L'\", key: [{key: k * 10}], fields: [tag, "
         "{lv: v}]}\n"
         "      right: {from: rows, where: \"side == 'R'\", key: [{rk: k * 10}], fields: [{rv: "
         "v}]}\n"
         "    window: {tumbling: 1s}\n"
         // A join's rows read by another pipeline.
         "  per_second:\n"
         "    from: outer\n"
         "    window: upstream\n"
         "    aggregates: {rows: count(), no_rv: count_if(rv is null), lv_total: sum(lv)}\n";
}

struct Row {
  std::int64_t ts;
  bool left;
  int k;
  std::string v;  // JSON text: a number, or null when the event has none
  std::string tag;
};

// (pipeline, window start, key, values as text): a multiset of results.
using Joined = std::tuple<std::string, std::int64_t, std::string, std::string>;

std::string text(const JsonNumber& n) {
  switch (n.type) {
    case JsonNumber::Type::kNull:
      return "null";
    case JsonNumber::Type::kString:
      return "\"" + n.text + "\"";
    default:
      return std::to_string(n.integer);
  }
}

using DaemonJoin = SubscribedDaemonTest;

TEST_F(DaemonJoin, InnerAndLeftJoinsMatchABruteForceJoin) {
  Fifo fifo(dir_.file("in.fifo"));
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::vector<Row> rows;
  std::string input;
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) {
      Row r{kBase + s * 1000 + i * 33, rng() % 2 == 0, static_cast<int>(rng() % 6),
            rng() % 10 == 0 ? "null" : std::to_string(rng() % 100), "t" + std::to_string(i % 3)};
      rows.push_back(r);
      input += "{\"ts\":" + std::to_string(r.ts) + ",\"side\":\"" + (r.left ? "L" : "R") +
               "\",\"k\":" + std::to_string(r.k) + (r.v == "null" ? "" : ",\"v\":" + r.v) +
               ",\"tag\":\"" + r.tag + "\"}\n";
    }
  }
  std::map<Joined, int> want;
  std::map<std::pair<std::int64_t, int>, int> windows;  // (outer start, k) -> right rows
  for (const Row& r : rows) {
    if (!r.left) ++windows[{r.ts - (r.ts - kBase) % 1000, r.k}];
  }
  for (const Row& l : rows) {
    if (!l.left) continue;
    const std::int64_t second = l.ts - (l.ts - kBase) % 1000;
    for (const Row& r : rows) {
      if (r.left || r.k != l.k) continue;
      // Hopping 2 s / 1 s: the windows starting at the second of each and the one before.
      for (const std::int64_t start : {second - 1000, second}) {
        if (r.ts >= start && r.ts < start + 2000) {
          ++want[{"inner", start, std::to_string(l.k), "lv=" + l.v + ";rv=" + r.v + ";"}];
        }
      }
      if (r.ts - (r.ts - kBase) % 1000 == second) {
        ++want[{"outer", second, std::to_string(l.k * 10),
                "tag=\"" + l.tag + "\";lv=" + l.v + ";rv=" + r.v + ";"}];
      }
    }
    if (!windows.contains({second, l.k})) {
      ++want[{"outer", second, std::to_string(l.k * 10),
              "tag=\"" + l.tag + "\";lv=" + l.v + ";rv=null;"}];
    }
  }
  int total = 0;
  for (const auto& [joined, n] : want) total += n;

  ASSERT_NO_FATAL_FAILURE(start(config(dir_, fifo.path())));
  ASSERT_NO_FATAL_FAILURE(replayToTheEnd(fifo, std::move(input)));
  // per_second: the outer join's rows of each second, those without rv, and the sum of lv.
  std::map<std::int64_t, std::tuple<std::int64_t, std::int64_t, std::int64_t>> per_second;
  for (const auto& [joined, n] : want) {
    if (std::get<0>(joined) != "outer") continue;
    auto& [count, no_rv, lv_total] = per_second[std::get<1>(joined)];
    const std::string& values = std::get<3>(joined);
    count += n;
    if (values.find("rv=null;") != std::string::npos) no_rv += n;
    const std::string lv = values.substr(values.find("lv=") + 3);
    if (lv.rfind("null", 0) != 0) lv_total += n * std::stoll(lv);
  }

  ASSERT_TRUE(subscriber_->receiveUntil(
      [&](const std::vector<Message>&) {
        return received("_window/inner/") == kSeconds + 1 &&
               received("_window/outer/") == static_cast<std::size_t>(kSeconds) &&
               received("_window/per_second/") == static_cast<std::size_t>(kSeconds);
      },
      30s));
  std::map<Joined, int> got;
  int markers_total = 0;
  std::vector<Message> results;
  std::map<std::int64_t, std::tuple<std::int64_t, std::int64_t, std::int64_t>> got_per_second;
  for (const Message& m : subscriber_->messages()) {
    if (m.topic.rfind("_window/per_second/", 0) == 0) continue;
    if (m.topic.rfind("per_second/", 0) == 0) {
      for (const Result& r : parseResults({m})) {
        got_per_second[r.start] = {r.values.at("rows").integer, r.values.at("no_rv").integer,
                                   r.values.at("lv_total").integer};
      }
      continue;
    }
    if (m.topic.rfind("_window/", 0) == 0) {
      markers_total += std::stoi(m.payload.substr(m.payload.find("\"results\":") + 10));
    } else {
      results.push_back(m);
    }
  }
  for (const Result& r : parseResults(results)) {
    EXPECT_EQ(r.kind, "final");
    ASSERT_EQ(r.key.size(), 1u) << r.payload;
    EXPECT_EQ(r.key[0].first, r.pipeline == "inner" ? "k" : "key");
    // Values in order: the left fields, then the right's.
    std::string values;
    for (const std::string name : {"tag", "lv", "rv"}) {
      const auto it = r.values.find(name);
      if (it != r.values.end()) values += name + "=" + text(it->second) + ";";
    }
    ++got[{r.pipeline, r.start, r.key[0].second, values}];
  }
  EXPECT_EQ(markers_total, total) << "each window's marker counts its joined rows";
  EXPECT_EQ(got_per_second, per_second);
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [joined, n] : want) {
    const auto it = got.find(joined);
    EXPECT_TRUE(it != got.end() && it->second == n)
        << std::get<0>(joined) << " " << std::get<1>(joined) << " k=" << std::get<2>(joined) << " "
        << std::get<3>(joined) << ": want " << n << ", got " << (it == got.end() ? 0 : it->second);
  }
}

}  // namespace
}  // namespace rivulet::testutil
