// SessionOperator on hand-checked streams (the random ones are in
// tests/property/window_property_test.cc), its key-table compaction and its steady state.
#include "pipeline/windows/session_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "tests/support/operator_run.h"
#include "tests/support/plans.h"
#include "tests/support/result_log.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

PipelinePlan sessionPlan(config::Nanos gap, config::Nanos lateness, bool updates = false,
                         std::int64_t max_keys = 0) {
  return testutil::planOf({.window = {config::WindowKind::kSession, gap},
                           .lateness = lateness,
                           .updates = updates,
                           .max_keys = max_keys});
}

class SessionOperatorTest : public ::testing::Test {
 protected:
  void make(const PipelinePlan& plan) {
    run_ = std::make_unique<testutil::OperatorRun<SessionOperator>>(
        plan, testutil::ResultLog::WindowEnds::kRefused);
  }
  AddResult add(std::int64_t time, const std::string& key, double v = 1) {
    return run_->op.add(time, hashKey(key), key, &v);
  }
  std::vector<std::string> advance(std::int64_t watermark) {
    run_->sink.log.clear();
    run_->op.advanceWatermark(watermark, run_->sink);
    return run_->sink.log;
  }

  std::unique_ptr<testutil::OperatorRun<SessionOperator>> run_;
};

TEST_F(SessionOperatorTest, GrowsFiresAtEndAndKeepsKeysApart) {
  make(sessionPlan(10, 0));
  EXPECT_EQ(add(0, "a"), AddResult::kAdded);
  EXPECT_EQ(add(5, "a", 2), AddResult::kAdded);
  EXPECT_EQ(add(3, "b"), AddResult::kAdded);
  EXPECT_EQ(add(15, "a", 4), AddResult::kAdded);  // exactly gap after 5: the same session
  EXPECT_EQ(run_->op.stateEntries(), 2u);
  EXPECT_EQ(run_->op.liveKeys(), 2u);
  EXPECT_THAT(advance(12), IsEmpty());
  EXPECT_THAT(advance(13), ElementsAre("final [3,13) b {\"n\":1,\"sum\":1}"));
  EXPECT_THAT(advance(24), IsEmpty());
  EXPECT_THAT(advance(25), ElementsAre("final [0,25) a {\"n\":3,\"sum\":7}"));
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_EQ(run_->op.liveKeys(), 0u);
}

TEST_F(SessionOperatorTest, AnOutOfOrderEventBridgesTwoSessions) {
  make(sessionPlan(10, 0));
  add(0, "a");
  add(20, "a", 2);  // 20 > 0 + gap: a second session
  add(40, "a", 100);
  EXPECT_EQ(run_->op.stateEntries(), 3u);
  add(10, "a", 4);  // within gap of 0 and of 20, not of 40
  EXPECT_EQ(run_->op.stateEntries(), 2u);
  EXPECT_THAT(advance(30), ElementsAre("final [0,30) a {\"n\":3,\"sum\":7}"));
  EXPECT_THAT(advance(50), ElementsAre("final [40,50) a {\"n\":1,\"sum\":100}"));
}

TEST_F(SessionOperatorTest, LateOnlyWhenNoLiveSessionIsTouched) {
  make(sessionPlan(10, 5));
  add(100, "a");
  EXPECT_THAT(advance(109), IsEmpty());
  EXPECT_EQ(add(90, "a"), AddResult::kAdded);  // window [90,100) touches the session
  EXPECT_EQ(add(80, "b"), AddResult::kLate);   // 80 + 10 + 5 <= 109
  EXPECT_EQ(add(95, "b"), AddResult::kAdded);  // 95 + 10 + 5 > 109
  EXPECT_THAT(advance(114), ElementsAre("final [95,105) b {\"n\":1,\"sum\":1}"));
  EXPECT_THAT(advance(115), ElementsAre("final [90,110) a {\"n\":2,\"sum\":2}"));
  EXPECT_EQ(add(100, "a"), AddResult::kLate);  // its session is gone, and 100 + 15 <= 115
}

TEST_F(SessionOperatorTest, UpdatesCarryTheSessionsNewBounds) {
  make(sessionPlan(10, 20, /*updates=*/true));
  add(0, "a");
  EXPECT_THAT(advance(10), ElementsAre("final [0,10) a {\"n\":1,\"sum\":1}"));
  add(8, "a", 2);   // late, extends the fired session
  add(25, "a", 4);  // a new session, not yet due
  EXPECT_THAT(run_->sink.log, ElementsAre("final [0,10) a {\"n\":1,\"sum\":1}",
                                          "update [0,18) a {\"n\":2,\"sum\":3}"));
  add(17, "a", 8);  // bridges the fired session and the open one: one update, no final later
  EXPECT_EQ(run_->sink.log.back(), "update [0,35) a {\"n\":4,\"sum\":15}");
  EXPECT_THAT(advance(54), IsEmpty());
  EXPECT_EQ(run_->op.stateEntries(), 1u);
  EXPECT_THAT(advance(55), IsEmpty());  // end + lateness: freed
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_EQ(add(3, "b"), AddResult::kLate);
  EXPECT_EQ(add(30, "b"), AddResult::kAdded);  // born past its fire time: an update at once
  EXPECT_EQ(run_->sink.log.back(), "update [30,40) b {\"n\":1,\"sum\":1}");
}

TEST_F(SessionOperatorTest, MaxKeysBoundsKeysWithALiveSession) {
  make(sessionPlan(10, 0, false, /*max_keys=*/2));
  EXPECT_EQ(add(0, "a"), AddResult::kAdded);
  EXPECT_EQ(add(0, "b"), AddResult::kAdded);
  EXPECT_EQ(add(1, "c"), AddResult::kRefused);
  EXPECT_EQ(add(30, "a"), AddResult::kAdded);  // a second session of a live key
  EXPECT_THAT(advance(10), ElementsAre("final [0,10) a {\"n\":1,\"sum\":1}",
                                       "final [0,10) b {\"n\":1,\"sum\":1}"));
  EXPECT_EQ(add(31, "c"), AddResult::kAdded);  // b has no session left
  EXPECT_EQ(add(32, "b"), AddResult::kRefused);
}

TEST_F(SessionOperatorTest, FlushEmitsOpenSessionsAsPartial) {
  make(sessionPlan(10, 0));
  add(0, "a");
  add(5, "b");
  run_->sink.log.clear();
  run_->op.flush(ResultKind::kPartial, run_->sink);
  EXPECT_THAT(run_->sink.log, ElementsAre("partial [0,10) a {\"n\":1,\"sum\":1}",
                                          "partial [5,15) b {\"n\":1,\"sum\":1}"));
  EXPECT_EQ(run_->op.tableKeys(), 0u);
}

// Keys come and go: the table is rebuilt from the live keys once the dead ones outnumber them,
// and sessions open across a rebuild keep their keys.
TEST_F(SessionOperatorTest, CompactionKeepsLiveKeysAndBoundsTheTable) {
  make(sessionPlan(10, 0));
  constexpr int kLive = 100;
  constexpr int kRounds = 20;
  constexpr int kTransient = 2000;
  std::map<std::string, int> finals;
  std::size_t max_table = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::int64_t t = round * 100;
    for (int k = 0; k < kLive; ++k) {  // one long session each: an event every 5
      for (int i = 0; i < 20; ++i) add(t + i * 5, "live" + std::to_string(k));
    }
    for (int k = 0; k < kTransient; ++k)
      add(t, "t" + std::to_string(round) + "-" + std::to_string(k));
    for (const std::string& line : advance(t + 99)) {
      const std::size_t key = line.find(' ', 6) + 1;  // "final [s,e) key {...}"
      ++finals[line.substr(key, line.find(' ', key) - key)];
    }
    max_table = std::max(max_table, run_->op.tableKeys());
  }
  // Every transient key's session, and no live key's (they never paused for gap).
  EXPECT_EQ(finals.size(), static_cast<std::size_t>(kRounds * kTransient));
  EXPECT_EQ(run_->op.liveKeys(), static_cast<std::size_t>(kLive));
  // Without compaction the table would hold every key ever seen (40,100).
  EXPECT_LE(max_table, static_cast<std::size_t>(kLive + 4096 + kTransient));
  run_->sink.log.clear();
  run_->op.flush(ResultKind::kFinal, run_->sink);
  ASSERT_EQ(run_->sink.log.size(), static_cast<std::size_t>(kLive));
  for (const std::string& line : run_->sink.log) {
    const std::string expected_count = "\"n\":" + std::to_string(kRounds * 20);
    EXPECT_NE(line.find("[0,2005) "), std::string::npos) << line;
    EXPECT_NE(line.find(expected_count), std::string::npos) << line;
  }
}

// Once its pools and heap have grown to the working set, the operator allocates nothing.
TEST_F(SessionOperatorTest, SteadyStateAllocatesNothing) {
  make(sessionPlan(10, 5, /*updates=*/true));
  std::vector<std::string> keys;
  for (int k = 0; k < 500; ++k) keys.push_back("k" + std::to_string(k));
  std::vector<std::uint64_t> hashes;
  for (const std::string& k : keys) hashes.push_back(hashKey(k));
  class CountingSink : public ResultSink {
   public:
    void onResult(const WindowResult&) override { ++results; }
    void onWindowEnd(std::int64_t, std::int64_t, std::size_t) override {}
    std::size_t results = 0;
  } quiet;
  auto round = [&](std::int64_t t) {
    const double v = 1;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      run_->op.add(t + static_cast<std::int64_t>(k % 7), hashes[k], keys[k], &v);
      run_->op.add(t + 3, hashes[k], keys[k], &v);
    }
    run_->op.advanceWatermark(t + 40, quiet);
  };
  for (int r = 0; r < 10; ++r) round(r * 100);
  const std::size_t before = testutil::allocations.load();
  for (int r = 10; r < 100; ++r) round(r * 100);
  EXPECT_EQ(testutil::allocations.load() - before, 0u);
  EXPECT_EQ(quiet.results, 100u * keys.size());
}

}  // namespace
}  // namespace rivulet::pipeline
