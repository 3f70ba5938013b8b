// JoinOperator: random rows of both sides in hopping windows against a brute-force join, for inner
// and left joins; rows of closed windows are late; and a snapshot taken anywhere, restored into
// a fresh operator, goes on to the same results (a corrupt one is refused).
#include "pipeline/windows/join_operator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "pipeline/model/key.h"
#include "tests/support/plans.h"

namespace rivulet::pipeline {
namespace {

using testutil::kMs;

constexpr std::string_view kYaml =
    "sources:\n"
    "  in: {kind: file, path: /dev/null, time: {field: ts, unit: ms}}\n"
    "pipelines:\n"
    "  j:\n"
    "    join:\n"
    "      type: TYPE\n"
    "      left: {from: in, where: \"side == 0\", key: [k], fields: [v]}\n"
    "      right: {from: in, where: \"side == 1\", key: [k], fields: [w, x]}\n"
    "    window: {hopping: {size: 3s, slide: 1s}}\n"
    "    allowed_lateness: 500ms\n";

PipelinePlan planOf(bool left_outer) {
  std::string yaml(kYaml);
  yaml.replace(yaml.find("TYPE"), 4, left_outer ? "left" : "inner");
  return compilePipeline(testutil::loadConfig(yaml), 0);
}

struct Event {
  std::int64_t time;
  bool right;
  std::string key;  // encoded: the join key, then the row's parts
  std::string row;  // the row's text, for the reference
  std::string k;
};

// (window start, key, left row, right row or "-"): results as a multiset.
using Joined = std::tuple<std::int64_t, std::string, std::string, std::string>;

std::string rowText(std::string_view row) {
  std::string out;
  KeyParts parts(row);
  KeyPartType type;
  std::string_view bytes;
  while (parts.next(type, bytes)) out += std::string(bytes) + "|";
  return out;
}

class Collect : public ResultSink {
 public:
  void onResult(const WindowResult& r) override {
    KeyParts key(r.key);
    KeyPartType type;
    std::string_view k;
    key.next(type, k);
    ++joined[{r.start, std::string(k), rowText(r.left_row),
              r.unmatched ? "-" : rowText(r.right_row)}];
    EXPECT_EQ(r.end - r.start, 3000 * kMs);
  }
  void onWindowEnd(std::int64_t, std::int64_t, std::size_t results) override { counted += results; }

  std::map<Joined, int> joined;
  std::size_t counted = 0;
};

std::vector<Event> randomEvents(std::mt19937_64& rng, int n) {
  std::vector<Event> events;
  for (int i = 0; i < n; ++i) {
    Event e;
    // Out of order by up to 0.4 s; every tenth from the 60th 6 s behind (late for all its
    // windows), every tenth other 4 s behind (late for some of them, or all).
    const std::int64_t behind = i >= 60 && i % 10 == 9 ? 6000
                                : i % 10 == 4          ? 4000
                                                       : static_cast<std::int64_t>(rng() % 400);
    e.time = (4000 + static_cast<std::int64_t>(i) * 37 - behind) * kMs;
    e.right = rng() % 2 == 1;
    e.k = std::to_string(rng() % 5);
    appendKeyPart(e.key, KeyPartType::kNumber, e.k);
    const int parts = e.right ? 2 : 1;
    for (int p = 0; p < parts; ++p) {
      if (rng() % 8 == 0) {
        appendKeyPart(e.row, KeyPartType::kNull, kNullPartText);
      } else {
        appendKeyPart(e.row, KeyPartType::kString, "s" + std::to_string(rng() % 50));
      }
    }
    e.key += e.row;
    events.push_back(std::move(e));
  }
  return events;
}

// The brute-force join of the events, each in those of its windows still open (end + lateness
// past the watermark it met).
std::map<Joined, int> reference(const std::vector<Event>& events,
                                const std::vector<std::int64_t>& met, bool left_outer) {
  std::map<std::pair<std::int64_t, std::string>,
           std::pair<std::vector<std::string>, std::vector<std::string>>>
      windows;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::int64_t last = e.time / (1000 * kMs) * 1000 * kMs;
    for (std::int64_t start = last; start > e.time - 3000 * kMs; start -= 1000 * kMs) {
      if (start + 3500 * kMs <= met[i]) continue;
      auto& sides = windows[{start, e.k}];
      (e.right ? sides.second : sides.first).push_back(rowText(e.row));
    }
  }
  std::map<Joined, int> out;
  for (const auto& [id, sides] : windows) {
    for (const std::string& l : sides.first) {
      if (sides.second.empty() && left_outer) ++out[{id.first, id.second, l, "-"}];
      for (const std::string& r : sides.second) ++out[{id.first, id.second, l, r}];
    }
  }
  return out;
}

class JoinOperatorTest : public ::testing::TestWithParam<bool> {};

TEST_P(JoinOperatorTest, MatchesABruteForceJoinAndSurvivesASnapshot) {
  const bool left_outer = GetParam();
  const PipelinePlan plan = planOf(left_outer);
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed() + left_outer);
  const std::vector<Event> events = randomEvents(rng, 400);
  const std::size_t cut = rng() % events.size();

  JoinOperator op(plan);
  std::unique_ptr<JoinOperator> resumed;
  Collect all, before_cut, after_restore;
  std::vector<bool> taken(events.size(), false);
  std::vector<std::int64_t> met(events.size());
  std::int64_t watermark = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i == cut) {
      SnapshotWriter out;
      op.snapshot(out);
      resumed = std::make_unique<JoinOperator>(plan);
      SnapshotReader in(out.bytes());
      ASSERT_TRUE(resumed->restore(in));
      ASSERT_TRUE(in.done());
      EXPECT_EQ(resumed->stateEntries(), op.stateEntries());
      // A truncated snapshot is refused, and leaves the operator as constructed.
      JoinOperator truncated(plan);
      const std::string half(out.bytes().substr(0, out.bytes().size() / 2));
      SnapshotReader short_in(half);
      EXPECT_FALSE(truncated.restore(short_in) && short_in.done());
    }
    const double side = events[i].right ? 1 : 0;
    met[i] = op.watermark();
    const AddResult added = op.add(events[i].time, 0, events[i].key, &side);
    taken[i] = added == AddResult::kAdded;
    EXPECT_EQ(added == AddResult::kLate,
              events[i].time / (1000 * kMs) * 1000 * kMs + 3500 * kMs <= op.watermark());
    if (resumed) {
      EXPECT_EQ(resumed->add(events[i].time, 0, events[i].key, &side), added);
    }
    // The watermark trails the events by 1.2 s: some come after their windows closed.
    watermark = std::max(watermark, events[i].time - 1200 * kMs);
    op.advanceWatermark(watermark, i < cut ? before_cut : all);
    if (resumed) resumed->advanceWatermark(watermark, after_restore);
  }
  op.flush(ResultKind::kFinal, all);
  resumed->flush(ResultKind::kFinal, after_restore);
  for (const auto& [joined, n] : before_cut.joined) all.joined[joined] += n;
  EXPECT_EQ(all.joined, reference(events, met, left_outer));
  EXPECT_EQ(op.stateEntries(), 0u);
  EXPECT_GT(std::count(taken.begin(), taken.end(), false), 0) << "no event was late";
  // What the restored operator emitted is what the original emitted after the cut.
  std::map<Joined, int> after_cut = all.joined;
  for (const auto& [joined, n] : before_cut.joined) {
    if ((after_cut[joined] -= n) == 0) after_cut.erase(joined);
  }
  EXPECT_EQ(after_restore.joined, after_cut);
  std::size_t results = 0;
  for (const auto& [joined, n] : all.joined) results += static_cast<std::size_t>(n);
  EXPECT_EQ(all.counted + before_cut.counted, results) << "each window's end counts its rows";
}

INSTANTIATE_TEST_SUITE_P(InnerAndLeft, JoinOperatorTest, ::testing::Bool());

}  // namespace
}  // namespace rivulet::pipeline
